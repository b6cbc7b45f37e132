"""Materializing through Dagster from the command line.

Every selected asset partition that is missing, failed, or whose files are
gone is materialized: one Dagster run per partition key (all selected assets
of that key together), recorded in the instance, then the unpartitioned
artifacts.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field

import dagster as dg

from vsc_assets import stopping
from vsc_assets.augment.families import PUBLISHED
from vsc_assets.builders.summary import SHOWN
from vsc_assets.catalog.artifacts import CATALOG, UNPARTITIONED, Catalog
from vsc_assets.catalog.claims import claim_path, holder_of
from vsc_assets.definitions import definitions_of
from vsc_assets.defs.assets import PLANNED_AT_TAG
from vsc_assets.defs.results import read_summary
from vsc_assets.layout import Layout
from vsc_assets.parallel import default_workers
from vsc_assets.defs.liveness import LAUNCHED_BY_TAG, runner_tags
from vsc_assets.runs.plan import Echo, Stale, prepare_runs


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


@dataclass
class RunSummary:
    runs: int = 0
    complete: int = 0
    failed: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    materialized: set[str] = field(default_factory=set)
    skipped: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (input, reason) -> assets
    stale: Stale = field(default_factory=dict)  # made by an older recipe version (or the other randomness mode)
    stale_rebuilt: bool = False
    finished: list[str] = field(default_factory=list)  # the partition runs that ended, as "key (assets)"
    run_seconds: dict[str, float] = field(default_factory=dict)  # each finished run's wall-clock seconds, by its label
    not_run: list[str] = field(default_factory=list)  # what a stop left for the next run
    stopped_by: int | None = None  # the signal that stopped the command

    def seconds_of(self, key: str | None, names: list[str]) -> float:
        """The wall-clock seconds of the run that finished these assets' partition ``key``."""
        return self.run_seconds[_label(key, names)]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.failed_checks and self.stopped_by is None

    def ran(self, asset: str) -> bool:
        return asset in self.materialized

    def skipped_lines(self, layout: Layout) -> list[str]:
        """The final word on bad inputs: how many, the first few with their reasons, where the rest are."""
        if not self.skipped:
            return []
        lines = [f"skipped {len(self.skipped)} bad input(s) in this run:"]
        for (item, reason), assets in list(self.skipped.items())[:SHOWN]:
            lines.append(f"    {item}: {reason} ({', '.join(sorted(assets))})")
        if len(self.skipped) > SHOWN:
            lines.append(f"    ... and {len(self.skipped) - SHOWN} more")
        lines.append(f"    full lists: the manifests under {layout.root / 'manifests'} (rows with an error)")
        return lines

    def stale_lines(self, catalog: Catalog, randomness: str) -> list[str]:
        """Partitions an older recipe made: how many per artifact, with the versions."""
        lines = []
        for name, found in self.stale.items():
            versions = Counter(version for _, version in found)
            made = ", ".join(f"{n} by version {v}" for v, n in sorted(versions.items()))
            what = "rebuilt" if self.stale_rebuilt else "kept; `--rebuild-stale` rebuilds them"
            lines.append(f"{name}: {len(found)} partition(s) made by an older recipe ({made}; now {catalog[name].version_for(randomness)}): {what}")
        return lines


def _label(key: str | None, names: list[str]) -> str:
    """One partition run, as the summary names it: "key (assets)"."""
    return f"{key or 'unpartitioned'} ({', '.join(names)})"


def _in_a_thread(job: dg.JobDefinition, **kwargs) -> dg.ExecuteInProcessResult:
    """The job's run off the main thread, so the main thread keeps the signal handlers
    (Dagster installs its own only on the main thread) and a stop reaches the work at once."""
    box: dict = {}

    def target():
        try:
            box["result"] = job.execute_in_process(**kwargs)
        except BaseException as exc:  # re-raised below, on the main thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="materialize", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(timeout=0.2)
    if "error" in box:
        raise box["error"]
    return box["result"]


def _held_by_others(layout: Layout, key: str | None, names: list[str]) -> list[str]:
    """Which of these asset partitions someone alive is building now, and who."""
    held = []
    for name in names:
        holder, stale = holder_of(claim_path(layout, name, key or UNPARTITIONED))
        if holder is not None and not stale:
            held.append(f"{name} by {holder}")
    return held


def _still_to_do(instance: dg.DagsterInstance, layout: Layout, catalog: Catalog, key: str | None, names: list[str], randomness: str) -> list[str]:
    """Of a deferred group, what is still missing once its other builder is done."""
    left = []
    for name in names:
        artifact = catalog[name]
        done = key in instance.get_materialized_partitions(dg.AssetKey(name)) if key else True
        if not (done and artifact.whole_in(layout, key, artifact.version_for(randomness))):
            left.append(name)
    return left


def materialize_missing(
    layout: Layout,
    selection: list[str],
    workers: int = 0,
    sources_per_partition: int | None = None,
    videos_per_partition: int | None = None,
    echo: Echo = print,
    catalog: Catalog = CATALOG,
    randomness: str = PUBLISHED,
    rebuild_stale: bool = False,
) -> RunSummary:
    # The code versions of the augmented sets name the randomness mode: its own Definitions for per_image.
    defs = definitions_of(catalog, randomness)
    planned_at = {}  # group -> when it was last seen to be done (a partition finished later by another is not redone)
    planned = time.time()
    instance, plan, complete, stale = prepare_runs(
        layout, selection, sources_per_partition, videos_per_partition, echo, catalog, randomness, rebuild_stale
    )
    summary = RunSummary(complete=complete, stale=stale, stale_rebuilt=rebuild_stale)
    # Runs go one after another here, so each uses every core unless told otherwise. The resource's
    # settings go in the run config, where the run's page in the UI shows them.
    # Failures are summarised below, one line each; Dagster's own log keeps the tracebacks (`dagster dev`).
    run_config = {
        "resources": {"vsc_root": {"config": {"root": str(layout.root), "workers": workers or default_workers()}}},
        "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
    }
    queue = deque(sorted(plan, key=lambda g: (g[0] is None, catalog.names.index(plan[g][0]), g[1] or "")))
    deferred: set = set()
    total, i = len(queue), 0
    while queue:
        group = queue.popleft()
        names, key = plan[group], group[1]
        where = "partition " + key if key else "all partitions"
        if stopping.requested():
            summary.not_run.append(_label(key, names))
            continue
        held = _held_by_others(layout, key, names)
        if held and group not in deferred and queue:
            deferred.add(group)
            queue.append(group)
            echo(f"{where}: {'; '.join(held)}; going on with the others, back to it at the end")
            continue
        if group in deferred:
            planned_at[group] = time.time()
            names = _still_to_do(instance, layout, catalog, key, names, randomness)
            if not names:
                echo(f"{where}: made whole by its other builder meanwhile; not built again")
                summary.complete += len(plan[group])
                continue
        i += 1
        started = time.perf_counter()
        echo(f"[{i}/{total}] {where}: {', '.join(names)}")
        result = _in_a_thread(
            defs.resolve_job_def(catalog[names[0]].job),  # the artifact's own job, which the Runs page names
            instance=instance,
            partition_key=key,
            asset_selection=[dg.AssetKey(n) for n in names],
            raise_on_error=False,
            run_config=run_config,
            tags={LAUNCHED_BY_TAG: "vsc-assets materialize", PLANNED_AT_TAG: repr(planned_at.get(group, planned)), **runner_tags()},
        )
        summary.runs += 1
        label = _label(key, names)
        if stopping.requested() and not result.success:
            summary.not_run.append(label)
            echo(f"    stopped (run {result.run_id} marked failed); the next `vsc-assets materialize` goes on from here")
            continue
        if not result.success:
            summary.failed.append(label)
            for message in _root_causes(result):
                echo(f"    {message}")
            echo(f"    FAILED (run {result.run_id}); `dagster dev` shows its logs")
            continue
        summary.finished.append(label)
        summary.run_seconds[label] = time.perf_counter() - started
        for check in result.get_asset_check_evaluations():
            if not check.passed:
                summary.failed_checks.append(f"{key}:{check.asset_key.to_user_string()}:{check.check_name}")
        counts = {}
        for ev in result.get_asset_materialization_events():
            asset = ev.asset_key.to_user_string()
            made = read_summary(ev.step_materialization_data.materialization.metadata)
            counts[asset] = made.count
            summary.materialized.add(asset)
            for s in made.first_skipped:
                summary.skipped.setdefault((s.item, s.reason), set()).add(asset)
            if made.skipped:
                named = "; ".join(f"{s.item}: {s.reason}" for s in made.first_skipped)
                more = " ..." if made.skipped > len(made.first_skipped) else ""
                echo(f"    {asset}: skipped {made.skipped} input(s): {named}{more}; full list: {made.manifest}")
        echo(f"    done in {time.perf_counter() - started:.1f} s: {counts}")
    summary.stopped_by = stopping.signal_received()
    return summary
