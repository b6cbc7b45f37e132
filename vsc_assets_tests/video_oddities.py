"""Videos for tests: broken ones, and ones whose frames carry their frame number."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np

BLOCK = 8
BITS = 12


def ffmpeg(*args: str) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-y", "-hide_banner", "-loglevel", "error", *args], check=True)


def numbered_frame(n: int, width=160, height=96) -> np.ndarray:
    """A frame showing its number n as a row of black/white blocks."""
    frame = np.full((height, width, 3), 90, np.uint8)
    for i in range(BITS):
        frame[:BLOCK, i * BLOCK : (i + 1) * BLOCK] = 255 if (n >> i) & 1 else 0
    return frame


def read_number(frame: np.ndarray) -> int:
    value = 0
    for i in range(BITS):
        value |= int(frame[2 : BLOCK - 2, i * BLOCK + 2 : (i + 1) * BLOCK - 2].mean() > 127) << i
    return value


def write_numbered(path: Path, fps: Fraction, count: int, drop=None, gop: int = 250, x264: str | None = None) -> list[Fraction]:
    """Frames 0..count-1 at ``fps``, less those with first <= n % period <= last for
    ``drop=(period, first, last)`` (variable frame rate); returns when each kept frame is shown.
    Without ``x264`` the stream has no B-frames (ultrafast); with it, those x264 settings apply."""
    kept = [n for n in range(count) if drop is None or not drop[1] <= n % drop[0] <= drop[2]]
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-y", "-hide_banner", "-loglevel", "error",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "160x96", "-framerate", f"{fps.numerator}/{fps.denominator}", "-i", "-"]  # fmt: skip
    if drop is not None:
        period, first, last = drop
        cmd += ["-vf", f"select='not(between(mod(n\\,{period})\\,{first}\\,{last}))'", "-fps_mode", "vfr"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast" if x264 is None else "veryfast", "-g", str(gop)]
    cmd += ["-x264-params", x264] if x264 else []
    cmd += ["-pix_fmt", "yuv420p", str(path)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    for n in range(count):
        proc.stdin.write(numbered_frame(n).tobytes())
    proc.stdin.close()
    assert proc.wait() == 0
    return [n / fps for n in kept]


def write_broken_videos(folder: Path) -> dict[str, str]:
    """video file name -> a phrase the reported reason must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    good = folder / "_good.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x96:rate=25:duration=4", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(good))
    data = good.read_bytes()
    good.unlink()
    (folder / "R100900.mp4").write_bytes(data[: len(data) // 2])  # moov at the end: gone
    (folder / "R100901.mp4").write_bytes(b"")
    (folder / "R100902.mp4").write_text("not a video at all\n")
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:a", "aac", str(folder / "R100903.mp4"))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x96:rate=25:duration=0.6", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(folder / "R100904.mp4"))
    return {
        "R100900.mp4": "cannot read as video",
        "R100901.mp4": "empty file",
        "R100902.mp4": "cannot read as video",
        "R100903.mp4": "no video stream",
        "R100904.mp4": "shorter than 1 s",
    }
