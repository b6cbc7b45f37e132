"""Helpers the tests share: small demo roots, a free port, a wait that fails when it times out."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Callable, TypeVar

from vsc_assets.catalog import artifacts
from vsc_assets.demo.images import make_disc21_demo

T = TypeVar("T")

# The names tests use most, as the catalog declares them.
S27, S3 = artifacts.S27.name, artifacts.S3.name
DISC21_SETS = tuple(a.name for a in artifacts.CATALOG.partitioned_by(artifacts.DISC21_SOURCES))

# Platform tests need images, not large ones: the demo's photos at 160-400 px keep them quick.
SMALL_IMAGES = (160, 400)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_images(folder: Path, count: int) -> None:
    """``count`` small demo DISC21 images in ``folder`` (those already there are kept)."""
    make_disc21_demo(folder, count=count, long_side=SMALL_IMAGES)


def make_root(tmp_path: Path, count: int = 120) -> Path:
    """A data root with ``count`` small demo DISC21 images in the published layout."""
    root = tmp_path / "root"
    make_images(root / "data" / "training_images", count)
    return root


def wait_for(probe: Callable[[], T | None], timeout: float, what: str, every: float = 0.5) -> T:
    """Call ``probe`` until it returns something truthy; fail naming ``what`` if ``timeout`` s pass first."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
