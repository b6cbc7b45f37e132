"""Test data the tests make themselves: small demo folders, odd and broken images."""

from __future__ import annotations

from pathlib import Path

import pytest

from vsc_assets.augment.assets_pool import list_assets
from vsc_assets.demo.images import make_disc21_demo


@pytest.fixture(autouse=True)
def no_ambient_settings(monkeypatch):
    """Tests choose their roots and instances; the caller's environment must not leak in."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("VSC_ROOT", raising=False)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def demo_disc21(tmp_path_factory) -> Path:
    """200 demo DISC21 images (20 sources, one of them truncated: T000500 is past 200, so none)."""
    folder = tmp_path_factory.mktemp("disc21") / "training_images"
    make_disc21_demo(folder, count=200)
    return folder


@pytest.fixture(scope="session")
def assets(demo_disc21):
    return list_assets(None, demo_disc21)


# Platform tests need images, not large ones: the demo's photos at 160-400 px keep them quick.
SMALL_IMAGES = (160, 400)


def make_images(folder: Path, count: int) -> None:
    """``count`` small demo DISC21 images in ``folder`` (those already there are kept)."""
    make_disc21_demo(folder, count=count, long_side=SMALL_IMAGES)


def make_root(tmp_path: Path, count: int = 120) -> Path:
    """A data root with ``count`` small demo DISC21 images in the published layout."""
    root = tmp_path / "root"
    make_images(root / "data" / "training_images", count)
    return root


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory):
    """`vsc-assets demo` on an empty root, run once: (root, its stdout, its stderr)."""
    import os
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("demo") / "root"
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "VSC_ROOT")}
    proc = subprocess.run(
        [sys.executable, "-m", "vsc_assets.platform.cli", "demo", "--root", str(root)],
        capture_output=True, text=True, env=env, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root, proc.stdout, proc.stderr
