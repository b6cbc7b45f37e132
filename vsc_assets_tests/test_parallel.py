"""How long a pool call left workers without work, from the spans its workers report."""

import time

import pytest

from vsc_assets.parallel import PoolUse, run_tasks


def test_pool_use_splits_the_idle_seconds_at_the_moment_every_worker_had_work():
    # Two workers: the second starts 2 s late; both end at 10; the call ends at 12.
    use = PoolUse.of([(0.0, 10.0), (2.0, 10.0)], workers=2, began=0.0, ended=12.0)
    assert use.start == pytest.approx(1.0)  # one of two idle for 2 s
    assert use.tail == pytest.approx(2.0)  # both idle for the last 2 s
    # Four workers kept busy back to back: nothing lost.
    spans = [(float(t), float(t + 1)) for t in range(5) for _ in range(4)]
    assert PoolUse.of(spans, workers=4, began=0.0, ended=5.0).seconds == pytest.approx(0.0)
    # One task on a pool of three never fills it: all of it counts as start.
    one = PoolUse.of([(1.0, 4.0)], workers=3, began=0.0, ended=4.0)
    assert one.tail == 0.0 and one.start == pytest.approx(1.0 + 3.0 * 2 / 3)  # all idle for 1 s, then two of three for 3 s


def _sleep(job, seconds):
    time.sleep(seconds)
    return seconds


def test_run_tasks_reports_each_tasks_span_from_its_worker():
    spans = []
    began = time.monotonic()
    assert list(run_tasks(_sleep, None, [0.3, 0.3, 0.6], workers=2, spans=spans)) == [0.3, 0.3, 0.6]
    ended = time.monotonic()
    assert len(spans) == 3 and all(began <= a < b <= ended for a, b in spans)
    assert sorted(round(b - a, 1) for a, b in spans) == [0.3, 0.3, 0.6]
    use = PoolUse.of(spans, 2, began, ended)
    assert 0.2 < use.tail < ended - began  # the last task ran alone
