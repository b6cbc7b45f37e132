"""The demo VSC dataset: reference videos panning over natural photographs, and
query videos that copy edited segments of them between unrelated footage.

Every frame is a function of its time, and carries its time (milliseconds)
as a strip of black and white blocks in its bottom-left corner, so tests can
read which frame a decoder returned. Deterministic; h264 through the ffmpeg
binary of imageio-ffmpeg, fed raw frames through a pipe (no shell).
"""

from __future__ import annotations

import csv
import math
import subprocess
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable

import imageio_ffmpeg
import numpy as np
from PIL import Image, ImageEnhance

from vsc_assets.augment.seeding import file_rng, file_seed
from vsc_assets.parallel import run_tasks
from vsc_assets.demo.images import PHOTOS, load_photo
from vsc_assets.io.atomic import TEMP_PREFIX

WIDTH, HEIGHT = 384, 216
FPS_CHOICES = (Fraction(30), Fraction(30000, 1001), Fraction(25))
N_REFERENCES = 20
N_QUERIES = 8
STAMP_BITS = 20
STAMP_BLOCK = 8
GT_HEADER = ("query_id", "ref_id", "query_start", "query_end", "ref_start", "ref_end")


@dataclass(frozen=True)
class Motion:
    """A slow pan and zoom over one photo."""

    photo: str
    mirror: bool
    phase: tuple[float, float, float]
    period: tuple[float, float, float]

    def render(self, t: float) -> Image.Image:
        photo = load_photo(self.photo)
        if self.mirror:
            photo = _mirrored(self.photo)
        pw, ph = photo.size
        zoom = 0.55 + 0.2 * math.sin(2 * math.pi * t / self.period[2] + self.phase[2])
        bw = min(pw, ph * WIDTH / HEIGHT) * zoom
        bh = bw * HEIGHT / WIDTH
        cx = pw / 2 + (pw - bw) / 2 * math.sin(2 * math.pi * t / self.period[0] + self.phase[0])
        cy = ph / 2 + (ph - bh) / 2 * math.sin(2 * math.pi * t / self.period[1] + self.phase[1])
        box = (cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2)
        return photo.resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR, box=box)


_MIRRORED: dict[str, Image.Image] = {}


def _mirrored(name: str) -> Image.Image:
    if name not in _MIRRORED:
        _MIRRORED[name] = load_photo(name).transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    return _MIRRORED[name]


def _motion(rng: np.random.Generator, photo: str, mirror: bool) -> Motion:
    return Motion(
        photo=photo,
        mirror=mirror,
        phase=tuple(float(x) for x in rng.uniform(0, 2 * math.pi, 3)),
        period=tuple(float(x) for x in rng.uniform(6, 16, 3)),
    )


@dataclass(frozen=True)
class Edit:
    """How a copied segment is altered in the query."""

    zoom: float
    dx: float
    dy: float
    brightness: float
    colour: float

    def apply(self, img: Image.Image) -> Image.Image:
        w, h = img.size
        cw, ch = w * self.zoom, h * self.zoom
        left, top = (w - cw) * self.dx, (h - ch) * self.dy
        img = img.resize((w, h), Image.Resampling.BILINEAR, box=(left, top, left + cw, top + ch))
        img = ImageEnhance.Brightness(img).enhance(self.brightness)
        return ImageEnhance.Color(img).enhance(self.colour)


@dataclass(frozen=True)
class Segment:
    ref_id: str
    query_start: Fraction
    query_end: Fraction
    ref_start: Fraction
    ref_end: Fraction
    edit: Edit

    @property
    def rate(self) -> Fraction:
        return (self.ref_end - self.ref_start) / (self.query_end - self.query_start)


@dataclass
class DemoVideo:
    video_id: str
    fps: Fraction
    frame_count: int
    motion: Motion
    dropped: tuple[int, int, int] | None = None  # (period, first, last) of frame numbers left out: VFR
    audio: bool = False
    segments: list[Segment] = field(default_factory=list)

    def frame_numbers(self) -> list[int]:
        if not self.dropped:
            return list(range(self.frame_count))
        period, first, last = self.dropped
        return [n for n in range(self.frame_count) if not first <= n % period <= last]

    def frame_times(self) -> list[Fraction]:
        """When each encoded frame is shown: the schedule the tests check decoders against."""
        return [n / self.fps for n in self.frame_numbers()]

    @property
    def duration(self) -> Fraction:
        """The end of the last encoded frame."""
        return self.frame_numbers()[-1] / self.fps + 1 / self.fps


def stamp(img: Image.Image, millis: int) -> Image.Image:
    bits = [(millis >> i) & 1 for i in range(STAMP_BITS)]
    arr = np.asarray(img).copy()
    for i, bit in enumerate(bits):
        arr[HEIGHT - STAMP_BLOCK :, i * STAMP_BLOCK : (i + 1) * STAMP_BLOCK] = 255 if bit else 0
    return Image.fromarray(arr)


def read_stamp(frame: np.ndarray) -> int:
    """The milliseconds a demo frame was stamped with (frame: HxWx3 array, demo size)."""
    strip = frame[-STAMP_BLOCK:, : STAMP_BITS * STAMP_BLOCK].astype(np.float32).mean(axis=2)
    value = 0
    for i in range(STAMP_BITS):
        block = strip[2:-2, i * STAMP_BLOCK + 2 : (i + 1) * STAMP_BLOCK - 2]
        value |= int(block.mean() > 127) << i
    return value


def plan_demo(seed: int = 0) -> tuple[list[DemoVideo], list[DemoVideo]]:
    references = []
    for r in range(N_REFERENCES):
        rng = file_rng(file_seed("demo-vsc-ref", seed, str(r), 0))
        fps = FPS_CHOICES[r % 3]
        seconds = int(rng.integers(10, 31))
        references.append(
            DemoVideo(
                video_id=f"R{100000 + r}",
                fps=fps,
                frame_count=int(seconds * fps) + int(rng.integers(0, 10)),
                motion=_motion(rng, PHOTOS[r % len(PHOTOS)], mirror=r >= len(PHOTOS)),
                dropped=(45, 12, 26) if r == 5 else None,
                audio=r % 4 == 0,
            )
        )
    queries = []
    for q in range(N_QUERIES):
        rng = file_rng(file_seed("demo-vsc-query", seed, str(q), 0))
        fps = FPS_CHOICES[(q + 1) % 3]
        video = DemoVideo(
            video_id=f"Q{200000 + q}",
            fps=fps,
            frame_count=0,
            # unrelated footage: photos turned sideways, which no reference shows
            motion=_motion(rng, PHOTOS[(q * 5) % len(PHOTOS)], mirror=True),
            dropped=(40, 5, 14) if q == 2 else None,
            audio=q % 3 == 0,
        )
        cursor = Fraction(int(rng.integers(1, 5)))
        for _ in range(int(rng.integers(1, 4))):
            ref = references[int(rng.integers(0, N_REFERENCES))]
            ref_len = Fraction(int(rng.integers(8, 17)), 2)  # 4 .. 8 s
            speed = [Fraction(1), Fraction(2, 3), Fraction(3, 2), Fraction(4, 5), Fraction(5, 4)][int(rng.integers(0, 5))]
            query_len = ref_len / speed
            ref_start = Fraction(int(rng.integers(0, int(2 * (ref.duration - ref_len - 1)))), 2)
            edit = Edit(
                zoom=float(rng.uniform(0.7, 1.0)),
                dx=float(rng.uniform(0, 1)),
                dy=float(rng.uniform(0, 1)),
                brightness=float(rng.uniform(0.7, 1.3)),
                colour=float(rng.uniform(0.5, 1.5)),
            )
            video.segments.append(Segment(ref.video_id, cursor, cursor + query_len, ref_start, ref_start + ref_len, edit))
            cursor += query_len + int(rng.integers(2, 7))
        video.frame_count = int(cursor * fps) + 1
        queries.append(video)
    return references, queries


def render_frame(video: DemoVideo, t: Fraction, refs: dict[str, DemoVideo]) -> Image.Image:
    for seg in video.segments:
        if seg.query_start <= t < seg.query_end:
            ref_t = seg.ref_start + seg.rate * (t - seg.query_start)
            return stamp(seg.edit.apply(refs[seg.ref_id].motion.render(float(ref_t))), round(1000 * t))
    return stamp(video.motion.render(float(t)), round(1000 * t))


def encode_video(video: DemoVideo, path: Path, refs: dict[str, DemoVideo]) -> None:
    """Write ``video`` as h264 mp4 at ``path`` (temp name, then rename)."""
    tmp = path.with_name(f"{TEMP_PREFIX}{path.stem}.part")
    seconds = float(video.duration) + 1
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-y", "-hide_banner", "-loglevel", "error",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{WIDTH}x{HEIGHT}",
        "-framerate", f"{video.fps.numerator}/{video.fps.denominator}", "-i", "-",
    ]  # fmt: skip
    if video.audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=22050:duration={seconds:.3f}"]
    if video.dropped:
        period, first, last = video.dropped
        cmd += ["-vf", f"select='not(between(mod(n\\,{period})\\,{first}\\,{last}))'", "-fps_mode", "vfr"]
    cmd += ["-map", "0:v"] + (["-map", "1:a", "-c:a", "aac", "-b:a", "48k", "-shortest"] if video.audio else [])
    cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-g", "60"]
    cmd += ["-f", "mp4", str(tmp)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for n in range(video.frame_count):
            proc.stdin.write(render_frame(video, n / video.fps, refs).tobytes())
        proc.stdin.close()
        error = proc.stderr.read().decode("utf-8", "replace")
        if proc.wait() != 0:
            raise RuntimeError(f"ffmpeg could not write {path}: {error.strip()}")
        tmp.replace(path)
    finally:
        if proc.poll() is None:
            proc.kill()
        tmp.unlink(missing_ok=True)


def ground_truth_rows(queries: list[DemoVideo]) -> list[tuple]:
    rows = []
    for video in queries:
        for seg in video.segments:
            rows.append(
                (video.video_id, seg.ref_id, float(seg.query_start), float(seg.query_end), float(seg.ref_start), float(seg.ref_end))
            )
    return rows


@dataclass(frozen=True)
class VideoJob:
    refs: dict


def encode_task(job: VideoJob, task: tuple[DemoVideo, Path]) -> None:
    encode_video(task[0], task[1], job.refs)


def make_vsc_demo(
    train_dir: Path,
    seed: int = 0,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    only: Callable[[DemoVideo], bool] | None = None,
) -> int:
    """Write train/query/*.mp4, train/reference/*.mp4 and the ground-truth CSV if absent.

    ``only`` picks a subset of the videos (the benchmark's quick run); the CSV is always whole.
    """
    references, queries = plan_demo(seed)
    refs = {v.video_id: v for v in references}
    tasks = []
    for folder, videos in (("reference", references), ("query", queries)):
        (train_dir / folder).mkdir(parents=True, exist_ok=True)
        for video in videos:
            path = train_dir / folder / f"{video.video_id}.mp4"
            if not path.exists() and (only is None or only(video)):
                tasks.append((video, path))
    # Longest first, so the last worker is not left with the longest video.
    tasks.sort(key=lambda t: -t[0].frame_count)
    for done, _ in enumerate(run_tasks(encode_task, VideoJob(refs), tasks, workers), start=1):
        if progress:
            progress(done, len(tasks))
    gt = train_dir / "train_matching_ground_truth.csv"
    if not gt.exists():
        tmp = gt.with_name(f"{TEMP_PREFIX}{gt.name}.part")
        with open(tmp, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(GT_HEADER)
            writer.writerows(ground_truth_rows(queries))
        tmp.replace(gt)
    return len(tasks)
