"""Temp-then-rename writes: a reader sees the old file or the whole new one, never half."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

TEMP_PREFIX = ".tmp-"
TEMP_SUFFIX = ".part"
# .tmp-<writer pid>-<random>.part: a temp file whose writer is gone is garbage.
_TEMP_NAME = re.compile(r"^\.tmp-(\d+)-.*\.part$")


def write_bytes_atomic(
    path: str | os.PathLike, data: bytes, make_parents: bool = False, temp_dir: str | os.PathLike | None = None
) -> None:
    """``temp_dir`` (same filesystem) keeps a writer's temp files out of a folder other writers share."""
    path = Path(path)
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    # Hidden and not ending in the real suffix: no reader globbing *.jpg sees it.
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=TEMP_SUFFIX, dir=temp_dir or path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, f"cannot write {path}: {exc.strerror}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def pid_alive(pid: int) -> bool:
    """Whether a process of this machine with that pid still runs (one of another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(folder: str | os.PathLike) -> int:
    """Delete temp files whose writer process is gone (killed mid-write); returns how many.

    Temp files of live writers (another partition's run) are left alone.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    count = 0
    for entry in os.scandir(folder):
        match = _TEMP_NAME.match(entry.name)
        if match and not pid_alive(int(match.group(1))):
            Path(entry.path).unlink(missing_ok=True)
            count += 1
    return count


def temp_dir_for(staging: Path, out_dir: Path) -> Path | None:
    """``staging``, created, when a rename from it into ``out_dir`` is atomic (same filesystem); else None."""
    staging.mkdir(parents=True, exist_ok=True)
    return staging if os.stat(staging).st_dev == os.stat(out_dir).st_dev else None
