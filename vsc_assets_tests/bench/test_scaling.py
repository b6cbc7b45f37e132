"""`bench --scaling`: partition runs through Dagster, their serial seconds, and the projection from them."""

from vsc_assets.bench.scaling import PartitionRun, measure_partition_runs
from vsc_assets.builders.summary import SerialSeconds
from vsc_assets.constants import VARIANTS_PER_SOURCE


def test_a_measured_partition_run_says_where_it_was_serial(tmp_path):
    run = measure_partition_runs(tmp_path, sources=3, workers=2, randomness="published")
    assert run.files == 3 * VARIANTS_PER_SOURCE and run.workers == 2
    assert run.run_seconds > run.build_seconds > run.serial.total > 0
    assert run.serial.manifest > 0 and run.serial.preview > 0 and run.recording > 0
    assert run.work_per_source > 0


def test_the_projection_falls_with_more_cores_and_rises_with_bigger_partitions():
    run = PartitionRun(sources=40, workers=2, files=800, run_seconds=6.0, build_seconds=5.5, serial=SerialSeconds(0.01, 0.1, 0.02, 0.08, 0.01))
    assert run.recording == 0.5
    assert run.work_per_source == (5.5 - 0.22) * 2 / 40
    at = [run.projected_efficiency(cores) for cores in (2, 16, 64, 250)]
    assert 1 > at[0] > at[1] > at[2] > at[3] > 0
    assert run.projected_efficiency(64, sources=5000) > run.projected_efficiency(64, sources=500)
    # Nothing serial and a tail of nothing would be a machine fully busy.
    busy = PartitionRun(40, 2, 800, 5.0, 5.0, SerialSeconds(0, 0, 0, 0, 0))
    assert busy.projected_efficiency(1) == 1.0
