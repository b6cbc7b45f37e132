"""`vsc-assets bench --daemon`: partition runs as the daemon launches them (a backfill from the UI,
or `vsc-assets backfill`), and what that costs a big machine.

A run the daemon launches pays what a run of `vsc-assets materialize` does not: the daemon
finds it in the queue (every ``dequeue_interval_seconds``), starts a process for it, and that
process starts its own pool of workers (a `materialize` keeps one pool for all its runs).
Measured here on s27 partitions of demo sources, with the instance's run limit set to one run
at a time (every core in it) and then to one run per core (one worker each: its sources run in
the run's own process, no pool to start). Each run's serial seconds come from its
materialization, as in `--scaling`; the launch gap is how long a run slot stood empty between
one run's end and the next run's start.
"""

from __future__ import annotations

import heapq
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

import dagster as dg

from vsc_assets.bench.scaling import PROJECTED_CORES, PROJECTED_SOURCES, PartitionRun
from vsc_assets.builders.summary import SerialSeconds
from vsc_assets.catalog.artifacts import S27
from vsc_assets.constants import SOURCE_STRIDE
from vsc_assets.defs.results import read_serial_seconds, read_summary
from vsc_assets.demo.images import make_disc21_demo
from vsc_assets.layout import Layout
from vsc_assets.parallel import default_workers
from vsc_assets.runs.backfill import launch_backfill
from vsc_assets.runs.instance import local_instance_config, open_instance, register_partitions

WORKSPACE = "load_from:\n  - python_module: vsc_assets.definitions\n"
SENSOR = "data_change_sensor"  # off for the measurement: its first tick would request the same partitions


@dataclass(frozen=True)
class RunSpan:
    start: float
    end: float


def launch_gaps(spans: list[RunSpan], slots: int) -> list[float]:
    """For every run after the first ``slots``: how long the slot it took had stood empty, from
    the end of the run that left it (the earliest to end of those that ended before it started)."""
    ordered = sorted(spans, key=lambda s: s.start)
    ends = [s.end for s in ordered[:slots]]
    heapq.heapify(ends)
    gaps = []
    for span in ordered[slots:]:
        freed = heapq.heappop(ends)
        gaps.append(max(0.0, span.start - freed))
        heapq.heappush(ends, span.end)
    return gaps


@dataclass(frozen=True)
class DaemonRuns:
    """The runs of one backfill, as the daemon ran them ``slots`` at a time."""

    slots: int
    runs: list[PartitionRun]
    spans: list[RunSpan]

    @property
    def images_per_second(self) -> float:
        return sum(r.files for r in self.runs) / (max(s.end for s in self.spans) - min(s.start for s in self.spans))

    @property
    def launch_gap(self) -> float:
        return mean(launch_gaps(self.spans, self.slots))

    @property
    def typical(self) -> PartitionRun:
        """One run with every figure the mean of the runs' (each run is a fresh process alike), of
        the runs with the most common number of workers (a backfill's last run, alone, takes every core)."""
        workers = Counter(r.workers for r in self.runs).most_common(1)[0][0]
        runs = [r for r in self.runs if r.workers == workers]
        serial = SerialSeconds(*(mean(getattr(r.serial, f) for r in runs) for f in ("start", "tail", "manifest", "preview", "checks")))
        return PartitionRun(
            runs[0].sources, workers, round(mean(r.files for r in runs)),
            mean(r.run_seconds for r in runs), mean(r.build_seconds for r in runs), serial,
        )  # fmt: skip

    def projected_efficiency(self, cores: int, sources: int = PROJECTED_SOURCES) -> float:
        """Work over what a run's ``cores`` are held for, the launch gap included."""
        work, serial = self.typical.projected_seconds(cores, sources)
        return work / (work + serial + self.launch_gap)


def _dagster(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _wait_for_runs(instance: dg.DagsterInstance, count: int, timeout: float) -> list[dg.RunRecord]:
    deadline = time.monotonic() + timeout
    while True:
        records = instance.get_run_records()
        if len(records) >= count and all(r.dagster_run.is_finished for r in records):
            return records
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {count} finished runs ({len(records)} so far)")
        time.sleep(1.0)


def measure_daemon_runs(tmp: Path, sources: int, partitions: int, slots: int, timeout: float = 1200) -> DaemonRuns:
    """A backfill of ``partitions`` s27 partitions of ``sources`` on a new root whose instance runs
    ``slots`` runs at a time, each with its share of the cores (the resource's default: as many as
    its materialization's ``workers`` says), launched by a daemon started for it and stopped after."""
    layout = Layout(tmp / f"root-{slots}-at-a-time")
    make_disc21_demo(layout.disc21_dir, count=partitions * sources * SOURCE_STRIDE, workers=default_workers())
    instance = open_instance(layout)
    register_partitions(instance, layout, {"sources": sources, "videos": None})
    (layout.dagster_home / "dagster.yaml").write_text(local_instance_config(slots))
    workspace = tmp / "workspace.yaml"
    workspace.write_text(WORKSPACE)
    env = {**os.environ, "DAGSTER_HOME": str(layout.dagster_home), "VSC_ROOT": str(layout.root)}
    subprocess.run([_dagster("dagster"), "sensor", "stop", "-w", str(workspace), SENSOR], env=env, check=True, capture_output=True, timeout=300)
    log = open(tmp / f"daemon-{slots}.log", "w")
    daemon = subprocess.Popen([_dagster("dagster-daemon"), "run", "-w", str(workspace)], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        launch_backfill(layout, [S27.name])
        records = _wait_for_runs(dg.DagsterInstance.from_config(str(layout.dagster_home)), partitions, timeout)
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
        log.close()
    failed = [r.dagster_run.tags.get("dagster/partition") for r in records if not r.dagster_run.is_success]
    if failed:
        tail = "\n".join((tmp / f"daemon-{slots}.log").read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"daemon runs failed for {', '.join(map(str, failed))}; the daemon's log ended:\n{tail}")
    instance = dg.DagsterInstance.from_config(str(layout.dagster_home))
    made: dict[str, dict] = {}
    for m in instance.fetch_materializations(dg.AssetKey(S27.name), limit=10 * partitions).records:  # newest first
        made.setdefault(m.partition_key, m.asset_materialization.metadata)
    runs, spans = [], []
    for record in records:
        metadata = made[record.dagster_run.tags["dagster/partition"]]
        summary, workers = read_summary(metadata), metadata["workers"].value
        span = RunSpan(record.start_time, record.end_time)
        runs.append(PartitionRun(sources, workers, summary.count, span.end - span.start, summary.seconds, read_serial_seconds(metadata)))
        spans.append(span)
    return DaemonRuns(slots, runs, spans)


def run_daemon_bench(echo=print, sources: int = 40, partitions: int = 6) -> dict:
    cores = default_workers()
    with tempfile.TemporaryDirectory(prefix="vsc-bench-daemon-") as tmp:
        measured = {slots: measure_daemon_runs(Path(tmp), sources, partitions, slots) for slots in (1, cores)}
    result: dict[str, float] = {"daemon_sources": sources, "daemon_partitions": partitions}
    for slots, label in ((1, "every_core"), (cores, "one_worker_each")):
        runs = measured[slots]
        typical = runs.typical
        echo(
            f"daemon, {slots} run(s) at a time, {typical.workers} worker(s) each: {runs.images_per_second:.1f} images/s;"
            f" a run's launch gap {runs.launch_gap:.2f} s, start {typical.serial.start:.2f} s, recording {typical.recording:.2f} s"
        )
        result |= {
            f"daemon_{label}_images_per_s": round(runs.images_per_second, 1),
            f"daemon_{label}_launch_gap_s": round(runs.launch_gap, 3),
            f"daemon_{label}_serial_start_s": round(typical.serial.start, 3),
            f"daemon_{label}_recording_s": round(typical.recording, 3),
            f"daemon_{label}_work_per_source_s": round(typical.work_per_source, 3),
        }
    every, each = measured[1], measured[cores]
    for n in PROJECTED_CORES:
        projected = {
            "every_core": every.projected_efficiency(n),  # one run at a time
            "two_runs": every.projected_efficiency(n // 2),  # the shipped run limit: two runs, half the cores each
            "one_worker_each": each.projected_efficiency(1),  # as many runs as cores
        }
        echo(f"projected, {n} cores, {PROJECTED_SOURCES} sources a partition: " + ", ".join(f"{k} {v:.3f}" for k, v in projected.items()))
        result |= {f"projected_efficiency_{n}_cores_daemon_{k}": round(v, 3) for k, v in projected.items()}
    return result
