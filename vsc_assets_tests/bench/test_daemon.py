"""`bench --daemon`: how long a run slot stands empty between the daemon's runs, and the projection from it.
(The daemon itself launching partition runs of a backfill: test_backfill.py, test_end_to_end.py.)"""

from vsc_assets.bench.daemon import DaemonRuns, RunSpan, launch_gaps
from vsc_assets.bench.scaling import PartitionRun
from vsc_assets.builders.summary import SerialSeconds
from vsc_assets.cli.main import build_parser


def test_a_run_takes_the_slot_that_emptied_first():
    one_at_a_time = [RunSpan(0, 10), RunSpan(12, 20), RunSpan(25, 30)]
    assert launch_gaps(one_at_a_time, 1) == [2, 5]
    # Two slots: the third run takes the slot the first left at 8, the fourth the one left at 9.
    two_at_a_time = [RunSpan(1, 9), RunSpan(0, 8), RunSpan(11, 20), RunSpan(10.5, 19)]
    assert launch_gaps(two_at_a_time, 2) == [2.5, 2]
    # A run queued behind a slot that was never empty waited for nothing.
    assert launch_gaps([RunSpan(0, 5), RunSpan(5, 9)], 1) == [0]


def _runs(workers: int, start: float, gap: float) -> DaemonRuns:
    serial = SerialSeconds(start, 0.1 if workers > 1 else 0.0, 0.02, 0.08, 0.01)
    run = PartitionRun(sources=40, workers=workers, files=800, run_seconds=6.0 * 2 / workers + 0.5, build_seconds=6.0 * 2 / workers, serial=serial)
    spans = [RunSpan(0, 6.5), RunSpan(6.5 + gap, 13 + gap)]
    return DaemonRuns(slots=1, runs=[run, run], spans=spans)


def test_a_launch_gap_and_a_pool_to_start_cost_a_run_of_many_workers_most():
    every_core, one_worker = _runs(2, start=1.2, gap=5.0), _runs(1, start=0.0, gap=5.0)
    assert every_core.launch_gap == 5.0 and every_core.images_per_second == 1600 / 18
    assert every_core.projected_efficiency(64) < every_core.projected_efficiency(16) < one_worker.projected_efficiency(1)
    # Without the gap, the projection is the in-process one.
    no_gap = _runs(2, start=1.2, gap=0.0)
    assert no_gap.projected_efficiency(64) == no_gap.typical.projected_efficiency(64)


def test_the_flag_is_parsed():
    assert build_parser().parse_args(["bench", "--daemon"]).daemon
