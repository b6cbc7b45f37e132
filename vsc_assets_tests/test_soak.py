"""Two operators on one root, on a loaded machine, again and again: every command exits 0, every time.

Deselected by default (about 10 minutes on 2 cores); run it with `pytest -m soak`.
"""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from vsc_assets.layout import Layout
from vsc_assets_tests.support import make_root
from vsc_assets_tests.test_operators import S27, builds, digests, finish, single_run, start  # noqa: F401 (a fixture)

pytestmark = pytest.mark.soak

REPETITIONS = 20
LOAD_PER_CORE = 6  # busy processes per core, besides the two commands and their workers: about 7 runnable a core
GAP_SECONDS = 1.0  # the scenario: the second operator starts a second after the first (while it opens the instance)


def _spin() -> None:
    while True:
        pass


@pytest.fixture
def loaded_machine():
    """Busy processes on every core for the test's length; stopped, whatever the outcome."""
    ctx = multiprocessing.get_context("spawn")
    spinners = [ctx.Process(target=_spin, daemon=True) for _ in range(LOAD_PER_CORE * (os.cpu_count() or 1))]
    for p in spinners:
        p.start()
    try:
        yield len(spinners)
    finally:
        for p in spinners:
            p.kill()
        for p in spinners:
            p.join(timeout=10)


def test_two_operators_under_load_exit_0_every_time(tmp_path, single_run, loaded_machine):
    failures = []
    for n in range(REPETITIONS):
        folder = tmp_path / f"rep{n}"
        root = make_root(folder, count=120)  # 12 sources: 4 partitions of 3
        logs = folder / "first.log", folder / "second.log"
        first = start(root, log=logs[0])
        time.sleep(GAP_SECONDS)
        second = start(root, log=logs[1])
        codes = finish(first, 900), finish(second, 900)
        built = builds(root)
        same = digests(Layout(root).set_dir(S27)) == single_run[1]
        if codes != (0, 0) or set(built.values()) != {1} or len(built) != 4 or not same:
            failures.append(f"repetition {n}: exit codes {codes}, builds {built}, files as one run's: {same}\n"
                            + "\n".join(f"--- {log.name}\n{log.read_text()}" for log in logs))  # fmt: skip
    assert not failures, f"{len(failures)} of {REPETITIONS} repetitions failed:\n" + "\n".join(failures)
