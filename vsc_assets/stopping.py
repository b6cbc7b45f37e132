"""Stopping on request: SIGINT (Ctrl-C) and SIGTERM (kill, systemd, Kubernetes) end the work within seconds.

The command's main thread owns the signal handlers. A signal sets one flag for
the process and terminates the worker pools that are running, so a partition
stops between two files, not at its end. Work checks the flag at its own safe
points (``check``) and raises ``Stopped``, which nothing retries. Files are
written under temp names and renamed, so what a stopped partition leaves is
either whole or a temp file the next run removes.
"""

from __future__ import annotations

import signal
import threading
from typing import Callable

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}

_requested = threading.Event()
_received: list[int] = []
_on_stop: set[Callable[[], None]] = set()
_guards: list[Callable[[], None]] = []  # the safety nets the running work stands on (a held claim)
_lock = threading.Lock()


class Stopped(Exception):
    """The work was asked to stop; ``signum`` says how."""

    def __init__(self, signum: int | None = None):
        self.signum = signum if signum is not None else (signal_received() or signal.SIGINT)
        super().__init__(f"stopped by {signal.Signals(self.signum).name}")


def request(signum: int = signal.SIGINT) -> None:
    """Ask everything in this process to stop: set the flag, and stop the registered pools now."""
    with _lock:
        if not _received:
            _received.append(signum)
    _requested.set()
    trip()


def requested() -> bool:
    return _requested.is_set()


def signal_received() -> int | None:
    return _received[0] if _received else None


def check() -> None:
    """Raise ``Stopped`` if a stop was asked for, or a guard's error if a safety net under the work
    gave way: call it where stopping leaves nothing half done."""
    if _requested.is_set():
        raise Stopped()
    for guard in list(_guards):
        guard()


def guard(check_fn: Callable[[], None]) -> Callable[[], None]:
    """From now on ``check`` also calls ``check_fn``, which raises when the work must not go on;
    returns the way to forget it."""
    with _lock:
        _guards.append(check_fn)
    return lambda: _guards.remove(check_fn) if check_fn in _guards else None


def trip() -> None:
    """A guard gave way: stop the registered pools now (the next ``check`` raises the guard's error)."""
    with _lock:
        callbacks = list(_on_stop)
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a pool already gone
            pass


def on_stop(callback: Callable[[], None]) -> Callable[[], None]:
    """Run ``callback`` when a stop is asked for (at once if it was already); returns the way to forget it."""
    with _lock:
        _on_stop.add(callback)
    if _requested.is_set():
        callback()
    return lambda: _on_stop.discard(callback)


def handle_signals() -> dict:
    """From now on, SIGINT and SIGTERM ask this process to stop instead of killing it (main thread only);
    returns the handlers they had, for ``restore_signals``."""
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, lambda received, _frame: request(received))
    return previous


def restore_signals(previous: dict) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def ignore_in_workers() -> None:
    """A worker process leaves SIGINT to its parent: Ctrl-C reaches the whole process group, and the
    parent decides how its workers stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def reset() -> None:
    """Forget a stop (tests that ask for one, and go on in the same process)."""
    with _lock:
        _received.clear()
        _on_stop.clear()
        _guards.clear()
    _requested.clear()
