"""`bench --scaling`: partition runs through Dagster, their serial seconds, and the projection from them."""

from vsc_assets.bench.scaling import PartitionRun, measure_partition_runs, measure_runs_at_once
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


def test_two_runs_at_once_keep_the_cores_busy_while_each_is_serial():
    run = PartitionRun(sources=40, workers=2, files=800, run_seconds=6.0, build_seconds=5.5, serial=SerialSeconds(0.01, 0.1, 0.02, 0.08, 0.01))
    for cores in (16, 64, 250):
        assert run.projected_efficiency_two_at_once(cores) > run.projected_efficiency(cores)
    work, serial = run.projected_seconds(64)
    assert serial < work and run.projected_efficiency_two_at_once(64) > 0.95  # only the parents' own seconds are lost
    work, serial = run.projected_seconds(250)
    assert serial > work and run.projected_efficiency_two_at_once(250) < work / serial  # the cores wait for the parents


def test_two_materialize_commands_at_once_make_every_partition_once(tmp_path):
    at_once = measure_runs_at_once(tmp_path, sources=2, workers=2, partitions=3)
    assert at_once.files == 3 * 2 * VARIANTS_PER_SOURCE
    assert at_once.one_seconds > 0 and at_once.two_seconds > 0
