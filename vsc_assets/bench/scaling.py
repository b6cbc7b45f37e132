"""`vsc-assets bench --scaling`: where a partition run leaves workers without work, and what that
costs a big machine.

s27 partitions go through the real path (`materialize_missing`: one Dagster run per
partition, in this process), once with one worker and once with two. Each run's
serial seconds come from its materialization (``SerialSeconds``: the pool's start and
tail; the parent's manifest, preview and checks) and from the run's own wall clock
(recording: Dagster's run start, events and checks around the build). Only the
second partition of each is read: the first pays for spawning the pool, which a
`materialize` of many partitions does once.

The projection keeps what scales with the partition (the work, the manifest and
the checks grow with its files; the checks are split between the workers) apart
from what does not (start, preview, recording), and models the tail as half a
source's work on every worker but one.

Then two partition runs at once, each with every core (``measure_runs_at_once``):
two `vsc-assets materialize` processes on one root, as two operators or Dagster's
run queue with ``max_concurrent_runs: 2`` would run them, so that the other
run's sources can keep the cores busy during each run's serial seconds (on two
cores they did not: docs/benchmarks.md, "A big machine"). They run as
processes, not threads of one process: Dagster configures Python's logging afresh
at the start of every run, and two runs in threads of one process deadlock on
its locks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from vsc_assets.augment.families import PUBLISHED
from vsc_assets.builders.sets import check_tasks
from vsc_assets.builders.summary import SerialSeconds
from vsc_assets.catalog.artifacts import S27
from vsc_assets.catalog.claims import claim_path
from vsc_assets.constants import SOURCE_STRIDE, VARIANTS_PER_SOURCE
from vsc_assets.defs.results import read_serial_seconds, read_summary
from vsc_assets.demo.images import make_disc21_demo
from vsc_assets.layout import Layout
from vsc_assets.parallel import default_workers
from vsc_assets.runs.instance import open_instance, register_partitions
from vsc_assets.runs.materialize import materialize_missing

PROJECTED_CORES = (16, 64, 250)
PROJECTED_SOURCES = 500  # sources per partition on a big machine


@dataclass(frozen=True)
class PartitionRun:
    """One measured partition run: its sources, workers, seconds, and where it was serial."""

    sources: int
    workers: int
    files: int
    run_seconds: float  # the Dagster run, wall clock
    build_seconds: float  # the builder, inside it
    serial: SerialSeconds

    @property
    def recording(self) -> float:
        return max(0.0, self.run_seconds - self.build_seconds)

    @property
    def work_per_source(self) -> float:
        """Core-seconds of work one source takes: the build less its serial part, on every worker."""
        return (self.build_seconds - self.serial.total) * self.workers / self.sources

    def projected_seconds(self, cores: int, sources: int = PROJECTED_SOURCES) -> tuple[float, float]:
        """(work, serial): the seconds a partition of ``sources`` takes on ``cores`` workers, its
        sources' work and the rest."""
        w, scale = self.work_per_source, sources / self.sources
        tail = w / 2 * (cores - 1) / cores
        s = self.serial
        # The checks' files are split into tasks, one per worker at most (builders/sets.py).
        split = check_tasks(self.files, self.workers) / check_tasks(sources * VARIANTS_PER_SOURCE, cores)
        return sources * w / cores, s.start + tail + s.manifest * scale + s.checks * scale * split + s.preview + self.recording

    def projected_efficiency(self, cores: int, sources: int = PROJECTED_SOURCES) -> float:
        """Work over what ``cores`` are held for, one partition run after another."""
        work, serial = self.projected_seconds(cores, sources)
        return work / (work + serial)

    def projected_efficiency_two_at_once(self, cores: int, sources: int = PROJECTED_SOURCES) -> float:
        """The same with two runs at once, each with ``cores`` workers: the cores idle only when
        both runs are serial at once, which they are not while one run's serial seconds are
        shorter than the other's work; the parents' own seconds are taken from the workers."""
        work, serial = self.projected_seconds(cores, sources)
        return work / (max(work, serial) + serial / cores)

    def entries(self, prefix: str) -> dict[str, float]:
        return {
            f"{prefix}_images_per_s": round(self.files / self.run_seconds, 1),
            f"{prefix}_run_s": round(self.run_seconds, 2),
            **{f"{prefix}_serial_{name}_s": value for name, value in self.serial.entries().items()},
            f"{prefix}_serial_recording_s": round(self.recording, 3),
            f"{prefix}_work_per_source_s": round(self.work_per_source, 3),
        }


def measure_partition_runs(tmp: Path, sources: int, workers: int, randomness: str) -> PartitionRun:
    """Two s27 partitions of ``sources`` through `materialize_missing`; the second one, measured."""
    layout = Layout(tmp / f"root-{workers}")
    make_disc21_demo(layout.disc21_dir, count=2 * sources * SOURCE_STRIDE, workers=default_workers())
    summary = materialize_missing(
        layout, [S27.name], workers=workers, sources_per_partition=sources, echo=lambda line: None, randomness=randomness
    )
    if not summary.ok or len(summary.finished) != 2:
        raise RuntimeError(f"the scaling runs did not finish: {summary.failed or summary.not_run}")
    instance = open_instance(layout)
    (record,) = instance.fetch_materializations(dg.AssetKey(S27.name), limit=1).records  # the newest: the second run
    metadata = record.asset_materialization.metadata
    made = read_summary(metadata)
    run_seconds = summary.seconds_of(record.partition_key, [S27.name])
    return PartitionRun(sources, workers, made.count, run_seconds, made.seconds, read_serial_seconds(metadata))


@dataclass(frozen=True)
class RunsAtOnce:
    """The same partitions made by one `vsc-assets materialize` and by two at once, each with every core."""

    files: int
    one_seconds: float  # from the first run's start to the last one's end, one command
    two_seconds: float  # the same, two commands at once

    @property
    def speedup(self) -> float:
        return self.one_seconds / self.two_seconds


def _materialize_process(root: Path, workers: int, randomness: str, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "VSC_ROOT")}
    command = [sys.executable, "-m", "vsc_assets.cli", "materialize", "--root", str(root), "--select", S27.name]
    command += ["--workers", str(workers), "--randomness", randomness]
    with open(log, "w") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)


def _made_by_commands(
    tmp: Path, name: str, sources: int, partitions: int, workers: int, commands: int, randomness: str
) -> tuple[int, float]:
    """Files made, and seconds from the first run's start to the last run's end (the commands'
    own start-up left out), by ``commands`` materialize processes at once on one new root."""
    layout = Layout(tmp / name)
    make_disc21_demo(layout.disc21_dir, count=partitions * sources * SOURCE_STRIDE, workers=default_workers())
    instance = open_instance(layout)
    register_partitions(instance, layout, {"sources": sources, "videos": None})
    first = claim_path(layout, S27.name, min(instance.get_dynamic_partitions(S27.partitioning.name)))
    logs = [tmp / f"{name}-{i}.log" for i in range(commands)]
    processes = [_materialize_process(layout.root, workers, randomness, logs[0])]
    try:
        for log in logs[1:]:
            # Each next command starts once the first partition is claimed, as a second operator would
            # come along: started at the same instant, both would start the first partition, one
            # waiting for the other (and they may meet again at the next ones; not measured).
            _wait_until(first.exists, timeout=600, what=f"the first command to claim {first.name}")
            processes.append(_materialize_process(layout.root, workers, randomness, log))
        for process, log in zip(processes, logs):
            if process.wait(timeout=3600) != 0:
                raise RuntimeError(f"a materialize for the scaling runs failed (exit code {process.returncode}; its output: {log})")
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    runs = [r for r in instance.get_run_records() if r.dagster_run.status == dg.DagsterRunStatus.SUCCESS]
    records = instance.fetch_materializations(dg.AssetKey(S27.name), limit=10 * partitions).records
    built = [(r.partition_key, read_summary(r.asset_materialization.metadata).count) for r in records if "built_by" not in r.asset_materialization.metadata]
    if len(built) != partitions or len(dict(built)) != partitions:
        raise RuntimeError(f"the scaling runs made {len(dict(built))} of {partitions} partitions, in {len(built)} builds")
    return sum(count for _, count in built), max(r.end_time for r in runs) - min(r.start_time for r in runs)


def _wait_until(probe, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def measure_runs_at_once(tmp: Path, sources: int, workers: int, randomness: str = PUBLISHED, partitions: int = 6) -> RunsAtOnce:
    """``partitions`` s27 partitions of ``sources``, by one materialize command and by two at once."""
    files, one = _made_by_commands(tmp, "one-command", sources, partitions, workers, 1, randomness)
    _, two = _made_by_commands(tmp, "two-commands", sources, partitions, workers, 2, randomness)
    return RunsAtOnce(files, one, two)


def run_scaling(echo=print, sources: int = 40, randomness: str = PUBLISHED) -> dict:
    runs = {}
    with tempfile.TemporaryDirectory(prefix="vsc-bench-scaling-") as tmp:
        for workers in (1, 2):
            run = runs[workers] = measure_partition_runs(Path(tmp), sources, workers, randomness)
            s = run.serial
            echo(
                f"s27 partition of {sources} sources, {workers} worker(s): {run.files / run.run_seconds:.1f} images/s; serial s:"
                f" start {s.start:.2f}, tail {s.tail:.2f}, manifest {s.manifest:.2f}, preview {s.preview:.2f}, checks {s.checks:.2f},"
                f" recording {run.recording:.2f}"
            )
        at_once = measure_runs_at_once(Path(tmp), sources, workers=default_workers(), randomness=randomness)
    echo(
        f"s27, the same partitions by one materialize and by two at once ({default_workers()} workers each):"
        f" {at_once.files / at_once.one_seconds:.1f} and {at_once.files / at_once.two_seconds:.1f} images/s, {at_once.speedup:.2f}x"
    )
    measured = runs[2]
    projected = {cores: measured.projected_efficiency(cores) for cores in PROJECTED_CORES}
    two = {cores: measured.projected_efficiency_two_at_once(cores) for cores in PROJECTED_CORES}
    echo(
        f"projected efficiency at {PROJECTED_SOURCES} sources a partition, one run at a time: "
        + ", ".join(f"{cores} cores {e:.3f}" for cores, e in projected.items())
        + "; two at once: "
        + ", ".join(f"{cores} cores {e:.3f}" for cores, e in two.items())
    )
    return {
        **runs[1].entries("scaling_1_worker"),
        **runs[2].entries("scaling_2_workers"),
        "scaling_speedup_2_workers": round(runs[1].run_seconds / runs[2].run_seconds, 2),
        **{f"projected_efficiency_{cores}_cores": round(e, 3) for cores, e in projected.items()},
        "runs_at_once_one_images_per_s": round(at_once.files / at_once.one_seconds, 1),
        "runs_at_once_two_images_per_s": round(at_once.files / at_once.two_seconds, 1),
        "runs_at_once_speedup": round(at_once.speedup, 3),
        **{f"projected_efficiency_{cores}_cores_two_at_once": round(e, 3) for cores, e in two.items()},
    }
