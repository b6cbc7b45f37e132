"""Fixtures: test data the tests make themselves, and no ambient settings."""

from __future__ import annotations

import fcntl
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from vsc_assets.augment.materials import list_materials
from vsc_assets.demo.images import make_disc21_demo
from vsc_assets_tests.support import wait_for


def pytest_configure(config):
    # Dagster sets SIGTERM to whatever SIGINT does each time an in-process run ends. In a suite
    # started in the background (SIGINT ignored), SIGTERM then ends up ignored as well, the
    # `tail` processes Dagster starts for its compute logs inherit that, and each one takes
    # Dagster's 30 s timeout to stop: a test process keeps the interrupt handler it should have.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _needs_demo(item) -> bool:
    return "demo_root" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config, items):
    """The tests of the demo root come last, so that the demo, built in the background from the
    start (``demo_build``), is ready when they run and no test process waits for it. (Grouping
    them in one process with `--dist loadgroup` no longer works on pytest 9.2: pytest-xdist
    issue 1386.) The soak test runs only when asked for by name (`pytest -m soak`): it takes
    about 10 minutes."""
    items[:] = sorted(items, key=_needs_demo)  # stable: the same order in every test process
    if "soak" in (config.getoption("markexpr") or ""):
        return
    kept = [item for item in items if item.get_closest_marker("soak") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item.get_closest_marker("soak") is not None])
        items[:] = kept


@pytest.fixture(autouse=True)
def no_ambient_settings(monkeypatch):
    """Tests choose their roots and instances; the caller's environment must not leak in."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("VSC_ROOT", raising=False)


@pytest.fixture(scope="session")
def demo_disc21(tmp_path_factory) -> Path:
    """200 demo DISC21 images (20 sources, one of them truncated: T000500 is past 200, so none)."""
    folder = tmp_path_factory.mktemp("disc21") / "training_images"
    make_disc21_demo(folder, count=200)
    return folder


@pytest.fixture(scope="session")
def materials(demo_disc21):
    return list_materials(None, demo_disc21)


DEMO_TIMEOUT = 900  # seconds for `vsc-assets demo`, on a machine as busy as the suite makes it


def _demo_folder(tmp_path_factory, worker_id) -> Path:
    """Where the demo is built: the temp folder every test process of this run shares."""
    shared = tmp_path_factory.getbasetemp()
    return shared.parent if worker_id != "master" else shared


@pytest.fixture(scope="session", autouse=True)
def demo_build(request, tmp_path_factory, worker_id):
    """`vsc-assets demo` on an empty root, started in the background by the first test process
    of a run that has tests needing it (they run last); the process that started it waits for
    it to end at the end of its session, and stops it if it overruns."""
    if not any(_needs_demo(item) for item in request.session.items):
        yield None
        return
    folder = _demo_folder(tmp_path_factory, worker_id)
    started = None
    with open(folder / "demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "demo-started").exists():
            (folder / "demo").mkdir(exist_ok=True)
            env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "VSC_ROOT")}
            demo = f"{shlex.quote(sys.executable)} -m vsc_assets.cli demo --root {shlex.quote(str(folder / 'demo' / 'root'))}"
            started = subprocess.Popen(
                ["sh", "-c", f"{demo} > demo.out 2> demo.err; echo $? > demo.rc.tmp && mv demo.rc.tmp demo.rc"],
                cwd=folder, env=env, start_new_session=True,
            )  # fmt: skip
            (folder / "demo-started").write_text(str(started.pid))
    yield folder
    if started is not None:
        try:
            started.wait(timeout=DEMO_TIMEOUT)
        except (subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
            os.killpg(started.pid, signal.SIGKILL)
            started.wait()
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise AssertionError(f"`vsc-assets demo` ran over {DEMO_TIMEOUT} s and was stopped") from None


@pytest.fixture(scope="session")
def demo_root(demo_build):
    """The demo root the background build made: (root, its stdout, its stderr)."""
    wait_for(lambda: (demo_build / "demo.rc").exists(), DEMO_TIMEOUT, "`vsc-assets demo` to finish")
    out, err = (demo_build / "demo.out").read_text(), (demo_build / "demo.err").read_text()
    assert (demo_build / "demo.rc").read_text().strip() == "0", out + err
    return demo_build / "demo" / "root", out, err
