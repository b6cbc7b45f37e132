"""Decoding the frames on screen at given times, decoding each video once.

Fast path: the frames needed are known from the probe's timestamps, so
ffmpeg's select filter passes only those (by presentation index) and only
they are converted to RGB and piped. showinfo reports every passed frame's
timestamp, which is checked against the probe; on any disagreement (a
decoder that drops or adds frames) the video is decoded again in full and the
on-screen rule is applied to the timestamps the decoder reports.
"""

from __future__ import annotations

import re
import subprocess
import threading
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from vsc_assets.video.probe import BadVideoError, VideoInfo, ffmpeg_exe
from vsc_assets.video.timing import on_screen_index

_SHOWINFO = re.compile(r"\bn:\s*(\d+)\s+pts:\s*(-?\d+)\s+pts_time:(-?[\d.e+-]+).*?\bs:(\d+)x(\d+)")
TOLERANCE_S = 1e-3


class _TimestampMismatch(Exception):
    pass


class _Decoder:
    """One ffmpeg process: frames on stdout, their showinfo lines on stderr."""

    def __init__(self, path: Path, select: str | None):
        vf = f"select='{select}',showinfo" if select else "showinfo"
        cmd = [
            ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info", "-threads", "1",
            "-i", str(path), "-map", "0:v:0", "-vf", vf, "-fps_mode", "passthrough",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
        ]  # fmt: skip
        self.path = path
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.infos: list[tuple[float, int, int]] = []
        self.tail: list[str] = []
        self.cond = threading.Condition()
        self.done = False
        self.thread = threading.Thread(target=self._read_stderr, daemon=True)
        self.thread.start()

    def _read_stderr(self) -> None:
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace")
            m = _SHOWINFO.search(line)
            with self.cond:
                if m:
                    self.infos.append((float(m.group(3)), int(m.group(4)), int(m.group(5))))
                    self.cond.notify_all()
                elif "showinfo" not in line:
                    self.tail = (self.tail + [line.strip()])[-5:]
        with self.cond:
            self.done = True
            self.cond.notify_all()

    def frames(self) -> Iterator[tuple[float, np.ndarray]]:
        """(timestamp in seconds as ffmpeg reports it, HxWx3 uint8) for each passed frame."""
        index = 0
        try:
            while True:
                with self.cond:
                    self.cond.wait_for(lambda: len(self.infos) > index or self.done)
                    if len(self.infos) <= index:
                        break
                    t, w, h = self.infos[index]
                data = self.proc.stdout.read(w * h * 3)
                if len(data) < w * h * 3:
                    break
                yield t, np.frombuffer(data, np.uint8).reshape(h, w, 3)
                index += 1
        finally:
            self.proc.stdout.close()
            code = self.proc.wait()
            self.thread.join()
        if code != 0 and index == 0:
            raise BadVideoError(self.path, f"decoding failed ({self.tail[-1] if self.tail else code})")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def frames_at(info: VideoInfo, times: list) -> Iterator[tuple[list[int], np.ndarray]]:
    """Yield (positions in ``times``, frame) for the frame on screen at each of ``times``.

    Each distinct frame is yielded once, in presentation order, with every
    requested time it answers.
    """
    wanted: dict[int, list[int]] = {}
    frame_times = list(info.frame_times)
    for pos, t in enumerate(times):
        wanted.setdefault(on_screen_index(frame_times, t), []).append(pos)
    if not wanted:
        return
    try:
        yield from _fast(info, wanted)
    except _TimestampMismatch:
        yield from _full(info, times)


def _fast(info: VideoInfo, wanted: dict[int, list[int]]):
    indices = sorted(set(wanted) | {0})  # frame 0 anchors the timeline
    select = "+".join(f"eq(n,{i})" for i in indices)
    decoder = _Decoder(info.path, select)
    try:
        origin = None
        pending = []
        for (t, frame), index in zip(decoder.frames(), indices):
            if origin is None:
                origin = t
            if abs((t - origin) - float(info.frame_times[index])) > TOLERANCE_S:
                raise _TimestampMismatch(index)
            if index in wanted:
                pending.append((wanted[index], frame.copy()))
        if len(pending) != len(wanted):
            raise _TimestampMismatch("frames missing")
    finally:
        decoder.close()
    # Yielded only once every timestamp is confirmed, so a fallback never follows a wrong frame.
    yield from pending


def _full(info: VideoInfo, times: list):
    order = sorted(range(len(times)), key=lambda p: Fraction(times[p]))
    decoder = _Decoder(info.path, None)
    try:
        origin = None
        previous = None
        cursor = 0
        for t, frame in decoder.frames():
            origin = t if origin is None else origin
            rel = Fraction(t - origin).limit_denominator(1_000_000)
            answered = []
            while cursor < len(order) and previous is not None and Fraction(times[order[cursor]]) < rel:
                answered.append(order[cursor])
                cursor += 1
            if answered:
                yield answered, previous
            previous = frame.copy()
        if previous is not None and cursor < len(order):
            yield order[cursor:], previous
    finally:
        decoder.close()
