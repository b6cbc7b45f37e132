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
the checks grow with its files) apart from what does not (start, preview,
recording), and models the tail as half a source's work on every worker but one.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from vsc_assets.augment.families import PUBLISHED
from vsc_assets.builders.summary import SerialSeconds
from vsc_assets.catalog.artifacts import S27
from vsc_assets.constants import SOURCE_STRIDE
from vsc_assets.defs.results import read_serial_seconds, read_summary
from vsc_assets.demo.images import make_disc21_demo
from vsc_assets.layout import Layout
from vsc_assets.parallel import default_workers
from vsc_assets.runs.instance import open_instance
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

    def projected_efficiency(self, cores: int, sources: int = PROJECTED_SOURCES) -> float:
        """Work over what ``cores`` are held for, for a partition of ``sources`` on ``cores`` workers."""
        w, scale = self.work_per_source, sources / self.sources
        work = sources * w / cores
        tail = w / 2 * (cores - 1) / cores
        s = self.serial
        serial = s.start + tail + (s.manifest + s.checks) * scale + s.preview + self.recording
        return work / (work + serial)

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
    label = summary.finished[1]
    key = label.split(" ", 1)[0]
    instance = open_instance(layout)
    (record,) = instance.fetch_materializations(dg.AssetRecordsFilter(dg.AssetKey(S27.name), asset_partitions=[key]), limit=1).records
    metadata = record.asset_materialization.metadata
    made = read_summary(metadata)
    return PartitionRun(sources, workers, made.count, summary.run_seconds[label], made.seconds, read_serial_seconds(metadata))


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
    measured = runs[2]
    projected = {cores: measured.projected_efficiency(cores) for cores in PROJECTED_CORES}
    echo(
        f"projected efficiency at {PROJECTED_SOURCES} sources a partition: "
        + ", ".join(f"{cores} cores {e:.3f}" for cores, e in projected.items())
    )
    return {
        **runs[1].entries("scaling_1_worker"),
        **runs[2].entries("scaling_2_workers"),
        "scaling_speedup_2_workers": round(runs[1].run_seconds / runs[2].run_seconds, 2),
        **{f"projected_efficiency_{cores}_cores": round(e, 3) for cores, e in projected.items()},
    }
