"""Materializing through Dagster from the command line.

Partitions are registered for the data under the root, then every selected
asset partition that is missing, failed, or whose files are gone is
materialized, one Dagster run per partition key, recorded in the instance.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import dagster as dg

from vsc_assets.chunks import keys_to_add
from vsc_assets.constants import DEFAULT_SOURCES_PER_PARTITION, DISC21_SETS
from vsc_assets.defs.partitions import disc21_partitions_def
from vsc_assets.defs.resources import VscRoot
from vsc_assets.io.manifest import read_manifest
from vsc_assets.layout import Layout
from vsc_assets.sets import NAME_RE, disc21_sources

Echo = Callable[[str], None]


def open_instance(layout: Layout) -> dg.DagsterInstance:
    """The instance at $DAGSTER_HOME, else <root>/.dagster (created on first use)."""
    home = layout.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        # This machine has no network to send telemetry to; say so once, quietly.
        config.write_text("telemetry:\n  enabled: false\n")
    return dg.DagsterInstance.from_config(str(home))


def register_partitions(
    instance: dg.DagsterInstance, layout: Layout, per_partition: int = DEFAULT_SOURCES_PER_PARTITION
) -> list[str]:
    """Add partition keys for sources not yet covered; returns the keys added."""
    name = disc21_partitions_def.name
    existing = list(instance.get_dynamic_partitions(name))
    new = keys_to_add(range(len(disc21_sources(layout.disc21_dir))), existing, per_partition)
    if new:
        instance.add_dynamic_partitions(name, new)
    return new


def outputs_present(layout: Layout, set_name: str, key: str) -> bool:
    """The partition's manifest exists and every file it lists is on disk."""
    manifest = layout.manifest_path(set_name, key)
    if not manifest.is_file():
        return False
    folder = layout.set_dir(set_name)
    return all((folder / row["name"]).is_file() for row in read_manifest(manifest) if row["name"])


def set_file_counts(layout: Layout, set_names=DISC21_SETS) -> dict[str, int]:
    counts = {}
    for name in set_names:
        folder = layout.set_dir(name)
        counts[name] = sum(1 for n in os.listdir(folder) if NAME_RE.match(n)) if folder.is_dir() else 0
    return counts


@dataclass
class RunSummary:
    runs: int = 0
    failed: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    skipped: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.failed_checks


def plan_runs(
    instance: dg.DagsterInstance, layout: Layout, selection: list[str]
) -> dict[str, list[str]]:
    """partition key -> the selected assets to (re)materialize for it."""
    from vsc_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = instance.get_dynamic_partitions(disc21_partitions_def.name)
    plan: dict[str, list[str]] = {}
    for name in selection:
        done = instance.get_materialized_partitions(dg.AssetKey(name))
        parents = {k.to_user_string() for k in graph.get(dg.AssetKey(name)).parent_keys}
        for key in keys:
            upstream_rerun = any(p in plan.get(key, []) for p in parents)
            if upstream_rerun or key not in done or not outputs_present(layout, name, key):
                plan.setdefault(key, []).append(name)
    return plan


def materialize_missing(
    layout: Layout,
    selection: list[str],
    workers: int = 0,
    base_seed: int | None = None,
    per_partition: int = DEFAULT_SOURCES_PER_PARTITION,
    echo: Echo = print,
) -> RunSummary:
    from vsc_assets.definitions import defs

    instance = open_instance(layout)
    added = register_partitions(instance, layout, per_partition)
    if added:
        echo(f"registered {len(added)} new partition(s): {', '.join(added[:5])}{' ...' if len(added) > 5 else ''}")
    plan = plan_runs(instance, layout, selection)
    all_keys = instance.get_dynamic_partitions(disc21_partitions_def.name)
    summary = RunSummary(skipped=len(all_keys) - len(plan))
    resource = VscRoot(root=str(layout.root), workers=workers, **({"base_seed": base_seed} if base_seed is not None else {}))
    assets = [a for a in defs.assets if isinstance(a, (dg.AssetsDefinition, dg.AssetSpec))]
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    for i, (key, names) in enumerate(sorted(plan.items()), start=1):
        started = time.perf_counter()
        echo(f"[{i}/{len(plan)}] partition {key}: {', '.join(names)}")
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
            summary.failed.append(key)
            echo(f"    FAILED (run {result.run_id}); see `dagster dev` for the logs")
            continue
        for check in result.get_asset_check_evaluations():
            if not check.passed:
                summary.failed_checks.append(f"{key}:{check.asset_key.to_user_string()}:{check.check_name}")
        files = {
            ev.asset_key.to_user_string(): ev.step_materialization_data.materialization.metadata["files"].value
            for ev in result.get_asset_materialization_events()
        }
        echo(f"    done in {time.perf_counter() - started:.1f} s: {files}")
    return summary
