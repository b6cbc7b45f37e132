"""Materializing through Dagster from the command line.

Every selected asset partition that is missing, failed, or whose files are
gone is materialized: one Dagster run per partition key (all selected assets
of that key together), recorded in the instance, then the unpartitioned
artifacts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import dagster as dg

from vsc_assets.catalog.artifacts import CATALOG, Catalog
from vsc_assets.constants import DEFAULT_SOURCES_PER_PARTITION, DEFAULT_VIDEOS_PER_PARTITION
from vsc_assets.definitions import defs as catalog_defs
from vsc_assets.definitions import definitions_for
from vsc_assets.defs.resources import VscRoot
from vsc_assets.layout import Layout
from vsc_assets.parallel import default_workers
from vsc_assets.runs.plan import Echo, prepare_runs


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


def materialize_missing(
    layout: Layout,
    selection: list[str],
    workers: int = 0,
    sources_per_partition: int = DEFAULT_SOURCES_PER_PARTITION,
    videos_per_partition: int = DEFAULT_VIDEOS_PER_PARTITION,
    echo: Echo = print,
    catalog: Catalog = CATALOG,
) -> RunSummary:
    defs = catalog_defs if catalog is CATALOG else definitions_for(catalog)
    instance, plan, complete = prepare_runs(layout, selection, sources_per_partition, videos_per_partition, echo, catalog)
    summary = RunSummary(complete=complete)
    # Runs go one after another here, so each uses every core unless told otherwise.
    resource = VscRoot(root=str(layout.root), workers=workers or default_workers())
    assets = list(defs.assets)
    # Failures are summarised below, one line each; Dagster's own log keeps the tracebacks (`dagster dev`).
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    order = sorted(plan, key=lambda g: (g[0] is None, catalog.names.index(plan[g][0]), g[1] or ""))
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
