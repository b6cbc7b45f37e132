"""Who is building which partition: one builder per partition at a time, whoever starts it.

A claim is a small file under ``<root>/.claims/<asset>/<key>.json``, written
whole under a temp name and hard-linked into place, which fails if it exists
(atomic on a local disk and over NFS), naming its holder: run id, host, pid. The holder touches it every
``HEARTBEAT`` seconds. A claim is taken over once its holder is provably
gone: on this host, its pid no longer runs; on any host, it has not been
touched for ``LEASE`` seconds (a killed process, a machine that lost power).
Taking over renames the old claim away first, which only one taker can do.

Dagster's own run queue cannot do this alone: `vsc-assets materialize` and
Celery steps do not pass through it, and its limits are per run, not per
partition of an asset. Plain file locks (flock, fcntl) are not dependable on
every NFS setup, and a lease also covers a machine that vanished.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from vsc_assets.io.atomic import pid_alive
from vsc_assets.layout import Layout

HEARTBEAT = 10.0  # seconds between touches of a held claim
LEASE = 120.0  # a claim untouched this long is stale, whatever host holds it (clocks may differ a little)


@dataclass(frozen=True)
class Holder:
    run_id: str
    host: str
    pid: int
    since: float

    def __str__(self) -> str:
        return f"run {self.run_id} on host {self.host} (pid {self.pid})"

    @classmethod
    def me(cls, run_id: str) -> Holder:
        return cls(run_id, socket.gethostname(), os.getpid(), time.time())


class Claim:
    """A held claim: its heartbeat runs until ``release``."""

    def __init__(self, path: Path, holder: Holder, token: str):
        self.path, self.holder, self.token = path, holder, token
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, name=f"claim {path.name}", daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            try:
                os.utime(self.path)
            except OSError:
                return

    def release(self) -> None:
        self._stop.set()
        current = _read(self.path)
        if current is not None and current.get("token") == self.token:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _read(path: Path) -> dict | None:
    for _ in range(5):  # a claim being written: try again in a moment
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            time.sleep(0.05)
    return {}


def holder_of(path: Path) -> tuple[Holder | None, bool]:
    """Who holds the claim at ``path`` and whether it is stale; (None, False) when nobody does."""
    data = _read(path)
    if data is None:
        return None, False
    try:
        holder = Holder(data["run_id"], data["host"], int(data["pid"]), float(data["since"]))
        touched = path.stat().st_mtime
    except (KeyError, ValueError, TypeError, FileNotFoundError):
        return Holder("unknown", "unknown", 0, 0.0), True  # unreadable: nobody can heartbeat it
    gone = holder.host == socket.gethostname() and not pid_alive(holder.pid)
    return holder, gone or time.time() - touched > LEASE


def claim_path(layout: Layout, asset: str, partition_key: str) -> Path:
    return layout.root / ".claims" / asset / f"{partition_key}.json"


def _write_new(path: Path, data: dict, token: str) -> bool:
    """Create ``path`` holding ``data`` only if it does not exist: written whole to a temp name first,
    then hard-linked into place (atomic, and the classic lock that works over NFS); False if it exists."""
    temp = path.with_name(f".{path.name}.{token}.tmp")
    try:
        with open(temp, "w") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(temp, path)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write {path}: {exc.strerror}") from exc
    finally:
        temp.unlink(missing_ok=True)


def try_claim(path: Path, holder: Holder) -> tuple[Claim | None, Holder | None, Holder | None]:
    """(claim, None, taken_over_from) when this holder now has it, (None, current holder, None) when
    someone alive does. A stale claim is taken over and its holder returned as the third item."""
    path.parent.mkdir(parents=True, exist_ok=True)
    taken_from = None
    for _ in range(3):
        token = uuid.uuid4().hex
        data = {"run_id": holder.run_id, "host": holder.host, "pid": holder.pid, "since": holder.since, "token": token}
        if _write_new(path, data, token):
            return Claim(path, holder, token), None, taken_from
        current, stale = holder_of(path)
        if current is None:
            continue  # released meanwhile
        if not stale:
            return None, current, None
        tombstone = path.with_name(f".{path.name}.stale-{token}")
        try:
            os.rename(path, tombstone)  # only one taker wins this
        except FileNotFoundError:
            continue
        tombstone.unlink(missing_ok=True)
        taken_from = current
    current, _ = holder_of(path)
    return None, current, None
