"""Claims that hold: a heartbeat that fails stops the build loudly, an unreadable claim is not taken
over while its lease runs, and a stop ends only the pool's own workers."""

from __future__ import annotations

import json
import multiprocessing
import os
import time

import pytest

from vsc_assets import stopping
from vsc_assets.catalog import claims
from vsc_assets.catalog.claims import LEASE, UNREADABLE, Claim, ClaimLost, Holder, claim_path, holder_of, try_claim
from vsc_assets.layout import Layout
from vsc_assets.parallel import run_tasks


@pytest.fixture(autouse=True)
def fresh_stop_state():
    stopping.reset()
    yield
    stopping.reset()


@pytest.fixture
def quick_heartbeat(monkeypatch):
    monkeypatch.setattr(claims, "HEARTBEAT", 0.05)


def _slow_square(job, n):
    time.sleep(job)
    return n * n


def _wait(probe, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_heartbeat_that_cannot_touch_its_claim_stops_the_pool_before_anything_more_is_written(tmp_path, quick_heartbeat, monkeypatch):
    path = claim_path(Layout(tmp_path), "train_v1_s27_all", "000000-000001")
    claim, _, _ = try_claim(path, Holder.me("r1"))
    done = []
    with pytest.raises(ClaimLost, match="cannot keep the claim .*Read-only file system.*stopped before renaming"):
        with claim:
            for n, result in enumerate(run_tasks(_slow_square, 0.2, range(40), workers=2)):
                done.append(result)
                if n == 1:  # the claims folder turns read-only mid-build
                    def unwritable(self):
                        raise OSError(30, "Read-only file system")

                    monkeypatch.setattr(Claim, "_touch", unwritable)
    assert 2 <= len(done) < 40  # stopped at once, not at the end
    assert claim.lost is not None
    assert not path.exists()  # released; this holder is alive and still says who it was in the error


def test_a_claim_taken_over_under_a_holder_stops_its_build(tmp_path, quick_heartbeat):
    path = claim_path(Layout(tmp_path), "train_v1_s27_all", "000000-000001")
    claim, _, _ = try_claim(path, Holder.me("r1"))
    with claim:
        path.write_text(json.dumps({"run_id": "r2", "host": "h", "pid": 1, "since": 0, "token": "other"}))
        _wait(lambda: claim.lost is not None)
        with pytest.raises(ClaimLost, match="now names r2"):
            stopping.check()
    assert path.exists()  # the new holder's claim is not released by the old one


def test_an_unreadable_claim_counts_as_held_until_its_lease_runs_out(tmp_path):
    path = claim_path(Layout(tmp_path), "train_v1_s27_all", "000000-000001")
    path.parent.mkdir(parents=True)
    path.write_text("{half a cla")  # a claim being written, a disk error: no pid to ask about
    holder, stale = holder_of(path)
    assert holder.run_id == UNREADABLE and not stale
    claim, current, taken = try_claim(path, Holder.me("r2"))
    assert claim is None and current.run_id == UNREADABLE and taken is None
    old = time.time() - LEASE - 5
    os.utime(path, (old, old))  # untouched for longer than the lease: its holder is gone
    claim, _, taken = try_claim(path, Holder.me("r2"))
    assert claim is not None and taken.run_id == UNREADABLE
    claim.release()


def _sleep_forever():
    time.sleep(600)


def test_a_stop_ends_the_pools_own_workers_and_no_other_child(tmp_path):
    bystander = multiprocessing.get_context("spawn").Process(target=_sleep_forever, daemon=True)
    bystander.start()
    try:
        got = []
        with pytest.raises(stopping.Stopped):
            for n, result in enumerate(run_tasks(_slow_square, 0.2, range(40), workers=2)):
                got.append(result)
                if n == 1:
                    stopping.request()
        assert len(got) < 40
        assert bystander.is_alive()  # a child the pool did not start is left alone
    finally:
        bystander.kill()
        bystander.join(timeout=10)
