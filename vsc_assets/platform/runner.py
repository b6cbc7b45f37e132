"""Materializing through Dagster from the command line.

Partitions are registered for the data under the root, then every selected
asset partition that is missing, failed, or whose files are gone is
materialized: one Dagster run per partition key (all selected assets of that
key together), recorded in the instance, then the unpartitioned pair table.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import dagster as dg
import pyarrow.parquet as pq

from vsc_assets.build.chunks import keys_to_add
from vsc_assets.build.frames import adopt_old_frame_folders
from vsc_assets.build.pair_table import PAIR_TABLE, check_pair_layout
from vsc_assets.build.parallel import default_workers
from vsc_assets.build.sets import NAME_RE
from vsc_assets.constants import (
    ARTIFACTS,
    DEFAULT_SOURCES_PER_PARTITION,
    DEFAULT_VIDEOS_PER_PARTITION,
    DISC21_SETS,
    REFERENCE_SET,
)
from vsc_assets.defs.partitions import (
    disc21_partitions_def,
    query_videos_partitions_def,
    reference_videos_partitions_def,
)
from vsc_assets.defs.resources import VscRoot
from vsc_assets.io.manifest import read_manifest
from vsc_assets.layout import Layout
from vsc_assets.platform.inputs import disc21_listing, source_count, videos

Echo = Callable[[str], None]
SHIPPED_INSTANCE_CONFIG = Path(__file__).parent.parent / "dagster.yaml"
CLUSTER_INSTANCE_CONFIG = Path(__file__).parent.parent / "cluster" / "dagster.yaml"


def available_artifacts(layout: Layout) -> list[str]:
    """The artifacts whose inputs are under the root: the default selection."""
    has_disc21 = len(disc21_listing(layout)) > 0
    has_refs = bool(videos(layout, "reference").ids)
    has_queries = bool(videos(layout, "query").ids)
    wanted = set()
    if has_disc21:
        wanted.update(DISC21_SETS)
    if has_refs:
        wanted.update({"reference_frames", "training_images_ref1"} | ({REFERENCE_SET} if has_disc21 else set()))
    if has_queries:
        wanted.add("query_frames")
    if layout.ground_truth.is_file():
        wanted.update({"pair_frames", "positive_pairs"})
    return [a for a in ARTIFACTS if a in wanted]


def open_instance(layout: Layout) -> dg.DagsterInstance:
    """The instance at $DAGSTER_HOME, else <root>/.dagster (SQLite) or, for a cluster,
    <root>/.dagster-cluster (Postgres); created on first use from the shipped config."""
    home = layout.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_bytes((CLUSTER_INSTANCE_CONFIG if layout.cluster else SHIPPED_INSTANCE_CONFIG).read_bytes())
    return dg.DagsterInstance.from_config(str(home))


def partition_ids(layout: Layout) -> dict[str, range | list[int]]:
    """The ids each dynamic partitions definition must cover, from the input index."""
    return {
        disc21_partitions_def.name: range(source_count(disc21_listing(layout))),
        query_videos_partitions_def.name: videos(layout, "query").numbers,
        reference_videos_partitions_def.name: videos(layout, "reference").numbers,
    }


def register_partitions(
    instance: dg.DagsterInstance,
    layout: Layout,
    sources_per_partition: int = DEFAULT_SOURCES_PER_PARTITION,
    videos_per_partition: int = DEFAULT_VIDEOS_PER_PARTITION,
) -> dict[str, list[str]]:
    """Add keys for ids not yet covered; returns the keys added per partitions definition."""
    added = {}
    for name, ids in partition_ids(layout).items():
        per = sources_per_partition if name == disc21_partitions_def.name else videos_per_partition
        new = keys_to_add(ids, list(instance.get_dynamic_partitions(name)), per)
        if new:
            instance.add_dynamic_partitions(name, new)
        added[name] = new
    return added


def _files_listed(layout: Layout, asset: str, key: str) -> list[Path] | None:
    """The files a partition's manifest says were written; None without a manifest."""
    manifest = layout.manifest_path(asset, key)
    if not manifest.is_file():
        return None
    if asset == "pair_frames":
        folder = layout.pair_frames_dir(key)
        rows = pq.read_table(manifest, columns=["query_file", "ref_file", "error"]).to_pylist()
        return [folder / r[c] for r in rows if not r["error"] for c in ("query_file", "ref_file")]
    folder = {
        "query_frames": layout.frames_dir("query"),
        "reference_frames": layout.frames_dir("reference"),
        "training_images_ref1": layout.selected_frames_dir,
    }.get(asset) or layout.set_dir(asset)
    return [folder / n for n in pq.read_table(manifest, columns=["name"]).column("name").to_pylist() if n]


def outputs_present(layout: Layout, asset: str, key: str | None) -> bool:
    if key is None:  # the pair table
        try:
            return all(c.passed for c in check_pair_layout(layout.pairs_dir).values())
        except (OSError, ValueError):
            return False
    files = _files_listed(layout, asset, key)
    return files is not None and all(p.is_file() for p in files)


def _count(folder: Path, match) -> int:
    return sum(1 for n in os.listdir(folder) if match(n)) if folder.is_dir() else 0


def file_counts(layout: Layout, names: list[str]) -> dict[str, int]:
    """What a researcher checks first: how many files each named artifact holds (pairs for the pair assets)."""
    counts = {}
    for name in [a for a in ARTIFACTS if a in names]:
        if name in (*DISC21_SETS, REFERENCE_SET):
            counts[name] = _count(layout.set_dir(name), NAME_RE.match)
        elif name in ("query_frames", "reference_frames"):
            counts[name] = _count(layout.frames_dir(name.split("_")[0]), lambda n: n.endswith(".jpg"))
        elif name == "training_images_ref1":
            counts[name] = _count(layout.selected_frames_dir, lambda n: n.endswith(".jpg"))
        elif name == "pair_frames":  # staged pairs whose two frames were read
            folder = layout.root / "manifests" / "pair_frames"
            manifests = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
            counts[name] = sum(1 for m in manifests for r in read_manifest(m) if not r["error"])
        else:
            table = layout.pairs_dir / PAIR_TABLE
            counts[name] = len(read_manifest(table)) if table.is_file() else 0
    return counts


def _last_line(message: str) -> str:
    """The line that says what went wrong, without Dagster's class-name prefix."""
    line = message.strip().splitlines()[-1]
    for prefix in ("dagster._core.definitions.events.Failure: ", "Failure: "):
        line = line.removeprefix(prefix)
    return line


def _root_causes(result) -> list[str]:
    """The errors the assets of a failed run raised (through retries), each once, one line each."""
    seen: dict[str, str] = {}  # message -> where
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        if error is not None and error.cause is not None:
            error = error.cause  # past Dagster's wrapper, to the exception the asset raised
        if error is not None:
            seen.setdefault(_last_line(error.message), event.step_key or "run")
    return [f"{where}: {message}" for message, where in seen.items()]


SKIP_SHOWN = 3  # skipped inputs named on the console; the manifests hold them all


@dataclass
class RunSummary:
    runs: int = 0
    complete: int = 0
    failed: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    materialized: set[str] = field(default_factory=set)
    skipped: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (input, reason) -> assets

    @property
    def ok(self) -> bool:
        return not self.failed and not self.failed_checks

    def ran(self, asset: str) -> bool:
        return asset in self.materialized

    def skipped_lines(self, layout: Layout) -> list[str]:
        """The final word on bad inputs: how many, the first few with their reasons, where the rest are."""
        if not self.skipped:
            return []
        lines = [f"skipped {len(self.skipped)} bad input(s) in this run:"]
        for (item, reason), assets in list(self.skipped.items())[:SKIP_SHOWN]:
            lines.append(f"    {item}: {reason} ({', '.join(sorted(assets))})")
        if len(self.skipped) > SKIP_SHOWN:
            lines.append(f"    ... and {len(self.skipped) - SKIP_SHOWN} more")
        lines.append(f"    full lists: the manifests under {layout.root / 'manifests'} (rows with an error)")
        return lines


def _skipped_in(event) -> tuple[int, list[dict], str | None]:
    """(count, first few {item, reason}, manifest) of the inputs one materialization skipped."""
    meta = event.step_materialization_data.materialization.metadata
    count = sum(meta[k].value for k in ("bad_inputs", "skipped_rows", "skipped_pairs") if k in meta)
    first = meta["skipped_first"].value if "skipped_first" in meta else []
    manifest = meta.get("skipped_manifest") or meta.get("manifest")
    return count, first, manifest.value if manifest is not None else None


def plan_runs(instance: dg.DagsterInstance, layout: Layout, selection: list[str]) -> tuple[dict, int]:
    """(partitions def name or None, key or None) -> assets to (re)materialize; and how many are complete."""
    from vsc_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    plan: dict[tuple, list[str]] = {}
    complete = 0
    for name in [a for a in ARTIFACTS if a in selection]:
        node = graph.get(dg.AssetKey(name))
        parents = {k.to_user_string() for k in node.parent_keys}
        if node.partitions_def is None:
            groups = [(None, None)]
            done = set()
            materialized = instance.get_latest_materialization_event(dg.AssetKey(name)) is not None
        else:
            pdef = node.partitions_def.name
            groups = [(pdef, key) for key in instance.get_dynamic_partitions(pdef)]
            done = instance.get_materialized_partitions(dg.AssetKey(name))
        for group in groups:
            key = group[1]
            if key is None:  # downstream of every partition of its parents
                upstream = any(p in assets for assets in plan.values() for p in parents)
            else:
                upstream = any(p in plan.get(group, []) for p in parents)
            is_done = (materialized if key is None else key in done) and outputs_present(layout, name, key)
            if upstream or not is_done:
                plan.setdefault(group, []).append(name)
            else:
                complete += 1
    return plan, complete


def prepare_runs(
    layout: Layout,
    selection: list[str],
    sources_per_partition: int = DEFAULT_SOURCES_PER_PARTITION,
    videos_per_partition: int = DEFAULT_VIDEOS_PER_PARTITION,
    echo: Echo = print,
) -> tuple[dg.DagsterInstance, dict, int]:
    """Everything before the first run: the instance, new partition keys, and the plan."""
    instance = open_instance(layout)
    for note in adopt_old_frame_folders(layout):  # before planning: the checks look in the new folders
        echo(note)
    for name, keys in register_partitions(instance, layout, sources_per_partition, videos_per_partition).items():
        if keys:
            echo(f"registered {len(keys)} new {name} partition(s): {', '.join(keys[:5])}{' ...' if len(keys) > 5 else ''}")
    plan, complete = plan_runs(instance, layout, selection)
    return instance, plan, complete


def materialize_missing(
    layout: Layout,
    selection: list[str],
    workers: int = 0,
    sources_per_partition: int = DEFAULT_SOURCES_PER_PARTITION,
    videos_per_partition: int = DEFAULT_VIDEOS_PER_PARTITION,
    echo: Echo = print,
) -> RunSummary:
    from vsc_assets.definitions import defs

    instance, plan, complete = prepare_runs(layout, selection, sources_per_partition, videos_per_partition, echo)
    summary = RunSummary(complete=complete)
    # Runs go one after another here, so each uses every core unless told otherwise.
    resource = VscRoot(root=str(layout.root), workers=workers or default_workers())
    assets = list(defs.assets)
    # Failures are summarised below, one line each; Dagster's own log keeps the tracebacks (`dagster dev`).
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    order = sorted(plan, key=lambda g: (g[0] is None, ARTIFACTS.index(plan[g][0]), g[1] or ""))
    for i, group in enumerate(order, start=1):
        names, key = plan[group], group[1]
        started = time.perf_counter()
        echo(f"[{i}/{len(order)}] {'partition ' + key if key else 'all partitions'}: {', '.join(names)}")
        result = dg.materialize(
            assets,
            instance=instance,
            resources={"vsc_root": resource},
            partition_key=key,
            selection=names,
            raise_on_error=False,
            run_config=quiet,
            tags={"vsc_assets/launched_by": "vsc-assets materialize"},
        )
        summary.runs += 1
        if not result.success:
            summary.failed.append(f"{key or 'unpartitioned'} ({', '.join(names)})")
            for message in _root_causes(result):
                echo(f"    {message}")
            echo(f"    FAILED (run {result.run_id}); `dagster dev` shows its logs")
            continue
        for check in result.get_asset_check_evaluations():
            if not check.passed:
                summary.failed_checks.append(f"{key}:{check.asset_key.to_user_string()}:{check.check_name}")
        counts = {}
        for ev in result.get_asset_materialization_events():
            asset = ev.asset_key.to_user_string()
            meta = ev.step_materialization_data.materialization.metadata
            counts[asset] = next((m.value for k, m in meta.items() if k in ("files", "pairs", "staged_pairs")), None)
            summary.materialized.add(asset)
            skipped, first, manifest = _skipped_in(ev)
            for s in first:
                summary.skipped.setdefault((s["item"], s["reason"]), set()).add(asset)
            if skipped:
                named = "; ".join(f"{s['item']}: {s['reason']}" for s in first)
                echo(f"    {asset}: skipped {skipped} input(s): {named}{' ...' if skipped > len(first) else ''}; full list: {manifest}")
        echo(f"    done in {time.perf_counter() - started:.1f} s: {counts}")
    return summary
