"""Fixtures: test data the tests make themselves, and no ambient settings."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from vsc_assets.augment.materials import list_materials
from vsc_assets.demo.images import make_disc21_demo


def pytest_configure(config):
    # Dagster sets SIGTERM to whatever SIGINT does each time an in-process run ends. In a suite
    # started in the background (SIGINT ignored), SIGTERM then ends up ignored as well, the
    # `tail` processes Dagster starts for its compute logs inherit that, and each one takes
    # Dagster's 30 s timeout to stop: a test process keeps the interrupt handler it should have.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """The tests of the demo root run in one test process (`--dist loadgroup`), so the other never
    waits for the demo. The soak test runs only when asked for by name (`pytest -m soak`): it
    takes about 10 minutes."""
    for item in items:
        if "demo_root" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("demo_root"))
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


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory, worker_id):
    """`vsc-assets demo` on an empty root, run once per test run: (root, its stdout, its stderr).

    The suite's test processes (pytest-xdist) share it: the first to need it builds it under a
    lock in their common temp folder, and the others wait for it and read what it said.
    """
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent
    said = shared / "demo-output.json"
    with open(shared / "demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not said.exists():
            root = shared / "demo" / "root"
            env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "VSC_ROOT")}
            proc = subprocess.run(
                [sys.executable, "-m", "vsc_assets.cli", "demo", "--root", str(root)],
                capture_output=True, text=True, env=env, timeout=900,
            )  # fmt: skip
            assert proc.returncode == 0, proc.stdout + proc.stderr
            said.write_text(json.dumps({"root": str(root), "stdout": proc.stdout, "stderr": proc.stderr}))
        demo = json.loads(said.read_text())
    return Path(demo["root"]), demo["stdout"], demo["stderr"]
