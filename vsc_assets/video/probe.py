"""Reading a video's frame timestamps without decoding it (ffmpeg demuxes, copies packets)."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg

PROBE_TIMEOUT_S = 120


class BadVideoError(Exception):
    """A file that cannot be used as a video; ``str()`` names file and reason."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    frame_times: tuple[Fraction, ...]  # presentation times, seconds from the first frame, sorted
    duration: Fraction  # end of the last frame

    @property
    def frame_count(self) -> int:
        return len(self.frame_times)


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


_TB = re.compile(r"^#tb 0: (\d+)/(\d+)")
_PACKET = re.compile(r"^0,\s*(-?\d+),\s*(-?\d+),\s*(\d+),")


def _last_error_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    return lines[-1] if lines else "ffmpeg failed without a message"


def probe_video(path: str | os.PathLike) -> VideoInfo:
    path = Path(path)
    if not path.is_file():
        raise BadVideoError(path, "file does not exist")
    if path.stat().st_size == 0:
        raise BadVideoError(path, "empty file (0 bytes)")
    cmd = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
        "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    if proc.returncode != 0:
        message = _last_error_line(proc.stderr)
        if "matches no streams" in message:
            raise BadVideoError(path, "no video stream (audio only?)")
        raise BadVideoError(path, f"cannot read as video ({message})")
    tb = None
    packets = []
    for line in proc.stdout.splitlines():
        if tb is None and (m := _TB.match(line)):
            tb = Fraction(int(m.group(1)), int(m.group(2)))
        elif m := _PACKET.match(line):
            packets.append((int(m.group(2)), int(m.group(3))))
    if tb is None or not packets:
        raise BadVideoError(path, "no video frames")
    packets.sort()
    first = packets[0][0]
    times = tuple((pts - first) * tb for pts, _ in packets)
    last_pts, last_duration = packets[-1]
    duration = (last_pts - first + max(last_duration, 0)) * tb
    return VideoInfo(path=path, frame_times=times, duration=duration)
