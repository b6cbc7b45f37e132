"""Who is building which partition: one builder per partition at a time, whoever starts it.

A claim is a small file under ``<root>/.claims/<asset>/<key>.json``, written
whole under a temp name and hard-linked into place, which fails if it exists
(atomic on a local disk and over NFS), naming its holder: run id, host, pid. The holder touches it every
``HEARTBEAT`` seconds. A claim is taken over once its holder is provably
gone: on this host, its pid no longer runs; on any host, it has not been
touched for ``LEASE`` seconds (a killed process, a machine that lost power).
A claim that cannot be read counts as held until its lease runs out. A holder
whose heartbeat fails stops its build before it renames anything more.
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

from vsc_assets import stopping
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


class ClaimLost(Exception):
    """The claim under a build can no longer be held: the build stops before it renames anything more
    into place. Retried like any failure: a retry claims the partition anew, or says why it cannot."""


class Claim:
    """A held claim: its heartbeat runs until ``release``. Inside ``with claim:`` the work stands on it:
    if the heartbeat cannot touch the claim, or finds it someone else's, the running pool is stopped at
    once and the next ``stopping.check()`` raises ``ClaimLost``. The claim was touched at most
    ``HEARTBEAT`` s before, so nobody can take it over (``LEASE``) before the build has stopped."""

    def __init__(self, path: Path, holder: Holder, token: str):
        self.path, self.holder, self.token = path, holder, token
        self.lost: str | None = None  # why the claim can no longer be held
        self._stop = threading.Event()
        self._forget_guard = lambda: None
        self._beat = threading.Thread(target=self._heartbeat, name=f"claim {path.name}", daemon=True)
        self._beat.start()

    def _touch(self) -> None:
        """One beat: the claim is still this holder's, and its time is now."""
        current = _read(self.path)
        if current is None:
            raise OSError(f"{self.path} is gone")
        if current.get("token") != self.token:
            raise OSError(f"{self.path} now names {current.get('run_id', 'an unreadable holder')}")
        os.utime(self.path)

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            try:
                self._touch()
            except OSError as exc:
                self.lost = f"cannot keep the claim {self.path}: {exc}; stopped before renaming anything more into place"
                stopping.trip()
                return

    def check(self) -> None:
        if self.lost is not None:
            raise ClaimLost(self.lost)

    def release(self) -> None:
        self._stop.set()
        self._forget_guard()
        current = _read(self.path)
        if current is not None and current.get("token") == self.token:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> Claim:
        self._forget_guard = stopping.guard(self.check)
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _read(path: Path) -> dict | None:
    """The claim's contents; None when there is no claim, {} when it cannot be read (yet)."""
    for _ in range(5):  # a claim being written: try again in a moment
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            time.sleep(0.05)
    return {}


UNREADABLE = "unreadable"  # the run id of a holder whose claim cannot be read


def holder_of(path: Path) -> tuple[Holder | None, bool]:
    """Who holds the claim at ``path`` and whether it is stale; (None, False) when nobody does.

    A claim counts as held until its holder is proven gone: its pid no longer runs on this host,
    or the claim has not been touched for ``LEASE`` s. One that cannot be read names no pid, so
    only the lease can free it."""
    data = _read(path)
    if data is None:
        return None, False
    try:
        touched = path.stat().st_mtime
    except FileNotFoundError:
        return None, False
    expired = time.time() - touched > LEASE
    try:
        holder = Holder(data["run_id"], data["host"], int(data["pid"]), float(data["since"]))
    except (KeyError, ValueError, TypeError):
        return Holder(UNREADABLE, "unknown", 0, 0.0), expired
    gone = holder.host == socket.gethostname() and not pid_alive(holder.pid)
    return holder, gone or expired


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
