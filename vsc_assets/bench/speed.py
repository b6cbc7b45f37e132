"""`vsc-assets bench`: images/s per core of the s27 and s3 pipelines against the floor.

The floor is what any pipeline must at least do: decode each source once,
then 20 times resize to 256x256 and encode at quality 100. Everything runs in
this one process, on the demo sources, encoding to memory (no disk writes).
The pipelines are the production path (``render_source``), fidelity-checked
against the recipe as written by ``bench_fidelity``.

A second yardstick does not depend on how fast this machine decodes, resizes
and encodes: the reference path (the recipe as written: every chain at the
source's full size, every family through AugLy's own functions, as the
published scripts run it) on the same sources; ``speedup_*`` is production
over reference.

The sources are measured in turns: each turn times the floor, s27, s3, their
reference paths and the floor again on its share of the sources, and each rate
is summed over all the turns. On a shared machine a slow spell then falls on
every side alike, instead of on whichever happened to be running.
"""

from __future__ import annotations

import multiprocessing
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image

from vsc_assets.augment.families import PUBLISHED
from vsc_assets.augment.generate import SetJob, Source, render_source
from vsc_assets.augment.materials import Materials, list_materials
from vsc_assets.catalog.artifacts import S3, S27
from vsc_assets.catalog.inputs import sources_in_folder
from vsc_assets.constants import OUTPUT_SIZE, SOURCE_STRIDE, VARIANTS_PER_SOURCE
from vsc_assets.demo.images import PHOTOS, load_photo, make_disc21_demo
from vsc_assets.demo.videos import make_vsc_demo
from vsc_assets.io.images import encode_jpeg, load_rgb
from vsc_assets.parallel import default_workers
from vsc_assets.video.decode import frames_at
from vsc_assets.video.probe import probe_video
from vsc_assets.video.timing import one_second_times


def floor_files(paths: list[Path]) -> int:
    for path in paths:
        with Image.open(path) as im:
            image = im.convert("RGB")
        for _ in range(VARIANTS_PER_SOURCE):
            encode_jpeg(image.resize((OUTPUT_SIZE, OUTPUT_SIZE), Image.Resampling.BILINEAR))
    return len(paths) * VARIANTS_PER_SOURCE


def pipeline_files(job: SetJob, sources, reference: bool = False) -> int:
    files = 0
    for source in sources:
        image, info = load_rgb(source.path)
        for _ in render_source(job, source, image, info, reference):
            files += 1
    return files


def timed_turns(turns) -> dict[str, tuple[int, float]]:
    """(items, seconds) of each side, summed over ``turns``: each turn is a list of (side, run),
    and ``run()`` does its share of the work and returns how many items it made. The sides
    alternate within every turn, so a slow spell of a shared machine falls on all of them."""
    totals: dict[str, tuple[int, float]] = {}
    for turn in turns:
        for side, run in turn:
            started = time.perf_counter()
            made = run()
            items, seconds = totals.get(side, (0, 0.0))
            totals[side] = (items + made, seconds + time.perf_counter() - started)
    return totals


BENCH_TURNS = 25  # about four demo sources a turn (see the module's docstring)


def timed_in_turns(
    sources, materials: dict[str, Materials], randomness: str, turns: int = BENCH_TURNS, reference: bool = True
) -> dict[str, tuple[int, float]]:
    """(files, seconds) of the floor (before and after each turn's pipelines), of s27 and s3, and
    (``reference``) of their reference paths, each over all ``sources``; each set has its own materials."""
    jobs = {side: SetJob(art.name, 0, materials[art.name], randomness) for side, art in (("s27", S27), ("s3", S3))}
    share = -(-len(sources) // turns)

    def turn(part):
        paths = [s.path for s in part]
        pipelines = [(side, lambda job=job: pipeline_files(job, part)) for side, job in jobs.items()]
        references = [(f"{side}_reference", lambda job=job: pipeline_files(job, part, reference=True)) for side, job in jobs.items()]
        return [
            ("floor_first", lambda: floor_files(paths)),
            *pipelines,
            *(references if reference else []),
            ("floor_last", lambda: floor_files(paths)),
        ]

    return timed_turns(turn(sources[first : first + share]) for first in range(0, len(sources), share))


def published_frames(videos: list[Path]) -> int:
    """What the published scripts did: count frames (a full decode), then decode every
    frame to an array and keep every int(fps)-th; kept frames are JPEG-encoded like ours."""
    import imageio.v2 as imageio

    kept = 0
    for path in videos:
        reader = imageio.get_reader(str(path), "ffmpeg")
        try:
            reader.count_frames()
            step = int(reader.get_meta_data()["fps"])
            for index, frame in enumerate(reader):
                if index % step == 0:
                    encode_jpeg(Image.fromarray(frame))
                    kept += 1
        finally:
            reader.close()
    return kept


def our_frames(videos: list[Path], parts: dict[str, float] | None = None) -> int:
    """Ours: probe the timestamps, decode once, convert only the frames on screen at each second.
    ``parts``, when given, gathers the seconds of probing, decoding (with the conversion to RGB)
    and encoding."""
    kept = 0
    parts = {} if parts is None else parts
    for path in videos:
        started = time.perf_counter()
        info = probe_video(path)
        probed, encoding = time.perf_counter(), 0.0
        for positions, frame in frames_at(info, one_second_times(info.duration)):
            encode_started = time.perf_counter()
            encode_jpeg(Image.fromarray(frame))
            encoding += time.perf_counter() - encode_started
            kept += len(positions)
        decoding = time.perf_counter() - probed - encoding
        for part, seconds in (("probe", probed - started), ("decode", decoding), ("encode", encoding)):
            parts[part] = parts.get(part, 0.0) + seconds
    return kept


FRAME_ROUNDS = 2  # each side extracts every video this many times


def frames_rates(videos: list[Path], rounds: int = FRAME_ROUNDS) -> tuple[float, float]:
    """(published, ours) frames/s, the two sides taking turns video by video."""
    timed = timed_turns(
        [("published", lambda v=video: published_frames([v])), ("ours", lambda v=video: our_frames([v]))]
        for _ in range(rounds)
        for video in videos
    )
    (published, published_seconds), (ours, our_seconds) = timed["published"], timed["ours"]
    return published / published_seconds, ours / our_seconds


def run_frames_bench(quick: bool, echo=print) -> dict:
    with tempfile.TemporaryDirectory(prefix="vsc-bench-video-") as tmp:
        # The quick run makes and measures every third demo video.
        make_vsc_demo(Path(tmp), workers=default_workers(), only=(lambda v: int(v.video_id[1:]) % 3 == 0) if quick else None)
        videos = sorted(Path(tmp).glob("*/*.mp4"))
        echo(f"frame extraction on {len(videos)} demo videos")
        baseline, ours = frames_rates(videos)
    echo(f"frames/s: published {baseline:.1f}, ours {ours:.1f}")
    return {
        "frames_per_s_published": round(baseline, 1),
        "frames_per_s": round(ours, 1),
        "speedup_frames": round(ours / baseline, 2),
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


LARGE_SOURCE = (3464, 2309)  # 8.0 Mpx, the most a chain starts from (MAX_CHAIN_PIXELS)


def _render_large(materials: dict[str, Materials], item: tuple[Path, str]) -> float:
    """In a fresh worker: all 20 files of one 8 Mpx source for s27 and for s3; the worker's peak RSS."""
    path, randomness = item
    for art in (S27, S3):
        pipeline_files(SetJob(art.name, 0, materials[art.name], randomness), [Source(path, 0)])
    return own_peak_rss_mb()


def own_peak_rss_mb() -> float:
    """This process's own peak memory. Linux's ru_maxrss also counts the forked copy of the parent
    a spawned process began as (however big the parent was); VmHWM is the process's own address space."""
    try:
        with open("/proc/self/status") as fh:
            kb = next(line.split()[1] for line in fh if line.startswith("VmHWM:"))
        return int(kb) / 1024.0
    except (OSError, StopIteration):
        return peak_rss_mb()


def worker_peak_rss_mb(tmp: Path, materials: dict[str, Materials], randomness: str) -> float:
    """Peak memory of a worker process, as a partition run spawns it, that renders an 8 Mpx source."""
    path = tmp / "large" / "L000000.jpg"
    path.parent.mkdir(exist_ok=True)
    load_photo(PHOTOS[0]).resize(LARGE_SOURCE, Image.Resampling.BICUBIC).save(path, quality=95)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(_render_large, materials, (path, randomness)).result()


QUICK_SOURCES, FULL_SOURCES = 10, 100  # demo sources (one image in ten is a source), before the bad one is dropped


def demo_sources(tmp: Path, count: int) -> tuple[list[Source], dict[str, Materials]]:
    """About ``count`` demo sources that decode, and each set's materials, under ``tmp``."""
    disc21 = tmp / "training_images"
    make_disc21_demo(disc21, count=SOURCE_STRIDE * count, workers=default_workers())
    # The one truncated demo file is no fair source for either side.
    sources = [s for s in sources_in_folder(disc21) if s.path.stat().st_size > 0 and _decodes(s.path)]
    # Each set's store of pool images at 256x256 starts empty: the first chain of that set to
    # draw a pool image pays for it, as if the set were the first one built.
    materials = {art.name: list_materials(None, disc21, squared_pool_dir=tmp / f"pool-256-{art.name}") for art in (S27, S3)}
    return sources, materials


def run_bench(quick: bool = False, scaling: bool = False, echo=print, randomness: str = PUBLISHED, sources: int | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="vsc-bench-") as tmp:
        sources, materials = demo_sources(Path(tmp), sources or (QUICK_SOURCES if quick else FULL_SOURCES))
        echo(f"bench on {len(sources)} demo sources ({len(sources) * VARIANTS_PER_SOURCE} files per measurement)")
        timed = timed_in_turns(sources, materials, randomness)
        worker_rss = worker_peak_rss_mb(Path(tmp), materials, randomness)
        echo(f"peak memory of a worker rendering an 8 Mpx source: {worker_rss:.0f} MB")
    rate = {side: files / seconds for side, (files, seconds) in timed.items()}
    floor_a, floor_b, s27, s3 = rate["floor_first"], rate["floor_last"], rate["s27"], rate["s3"]
    floor = (floor_a + floor_b) / 2
    reference = {side: rate[f"{side}_reference"] for side in ("s27", "s3")}
    frames = run_frames_bench(quick, echo)
    if scaling:
        from vsc_assets.bench.scaling import run_scaling  # through Dagster: imported only when asked for
    result = {
        "randomness": randomness,
        "sources": len(sources),
        "floor_images_per_s": round(floor, 1),
        "s27_images_per_s_per_core": round(s27, 1),
        "s3_images_per_s_per_core": round(s3, 1),
        "efficiency_s27": round(s27 / floor, 3),
        "efficiency_s3": round(s3 / floor, 3),
        "s27_reference_images_per_s_per_core": round(reference["s27"], 1),
        "s3_reference_images_per_s_per_core": round(reference["s3"], 1),
        "speedup_s27": round(s27 / reference["s27"], 2),
        "speedup_s3": round(s3 / reference["s3"], 2),
        **frames,
        **(run_scaling(echo, sources=12 if quick else 40, randomness=randomness) if scaling else {}),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "worker_peak_rss_mb_8mpx": round(worker_rss, 1),
    }
    echo(f"floor {floor:.1f} img/s (first {floor_a:.1f}, last {floor_b:.1f}); s27 {s27:.1f}; s3 {s3:.1f} img/s per core")
    echo(f"reference path: s27 {reference['s27']:.1f}, s3 {reference['s3']:.1f} img/s per core; production is {s27 / reference['s27']:.2f}x and {s3 / reference['s3']:.2f}x")
    return result


def _decodes(path: Path) -> bool:
    try:
        load_rgb(path)
        return True
    except Exception:
        return False
