"""A live progress line for long work, shown by the CLI while its runs execute in-process.

Assets report progress through their Dagster log as well; this hook only adds
a terminal line when someone (the CLI) listens in the same process.
"""

from __future__ import annotations

import sys
import time
from typing import Callable

_listener: Callable[[str, int, int], None] | None = None


def listen(listener: Callable[[str, int, int], None] | None) -> None:
    global _listener
    _listener = listener


def notify(label: str, done: int, total: int) -> None:
    if _listener is not None:
        _listener(label, done, total)


def say(text: str) -> None:
    """A line for whoever listens in this process (the CLI's console)."""
    if _listener is not None and hasattr(_listener, "say"):
        _listener.say(text)


class TerminalLine:
    """Rewrites one line on a terminal; elsewhere prints every tenth of the way."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.live = stream.isatty()
        self.started: dict[str, float] = {}

    def say(self, text: str) -> None:
        if self.live:
            self.stream.write("\r" + " " * 79 + "\r")
        print(f"    {text}", file=self.stream, flush=True)

    def __call__(self, label: str, done: int, total: int) -> None:
        start = self.started.setdefault(label, time.perf_counter())
        elapsed = time.perf_counter() - start
        text = f"    {label}: {done}/{total} ({100 * done / max(total, 1):.0f}%, {elapsed:.0f} s"
        if elapsed > 1 and done:
            text += f", about {(total - done) * elapsed / done:.0f} s left"
        text += ")"
        if self.live:
            self.stream.write("\r" + text.ljust(79) + ("\n" if done >= total else ""))
            self.stream.flush()
        elif done >= total or done % max(1, total // 10) == 0:
            print(text, file=self.stream, flush=True)
