"""`vsc-assets bench --ceilings`: the most the levers still open could give, before anyone builds one.

**Sets.** A chain that meets a family whose effect is measured in pixels of
its input (grain, blocks, single pixels) before its first resize to 256 runs
at the source's full size up to that family (augment/resolution.py). A
statistical lever for such a family would let those chains start reduced. Its
best case is a lever that costs nothing: the chain planned as if the family
commuted with downscaling, and the family run at the reduced size with its
parameters as drawn. That is not the recipe, and no output of it is kept: it
only bounds what a lever for each family, and for all of them, could be worth.
Each side runs the production path on the same sources, in turns.

**Frames.** Our extraction's seconds split into probing (demuxing every
packet), decoding (only the pictures the wanted frames need) and encoding the
kept frames, side by side with the published reader, video by video. Decoding
alone bounds the speed-up any change to probing or encoding could give.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np

from vsc_assets.augment.families import FAMILIES, PUBLISHED, REGISTRY, ChainContext
from vsc_assets.augment.families.base import pool_square
from vsc_assets.augment.generate import SetJob
from vsc_assets.augment.materials import Materials
from vsc_assets.augment.recipes import recipe_for_set
from vsc_assets.bench.speed import (
    BENCH_TURNS,
    FRAME_ROUNDS,
    FULL_SOURCES,
    demo_sources,
    our_frames,
    pipeline_files,
    published_frames,
    timed_turns,
)
from vsc_assets.catalog.artifacts import S3, S27
from vsc_assets.demo.videos import make_vsc_demo
from vsc_assets.parallel import default_workers

DRAWS = 200  # draws of each family's parameters to learn whether any keeps a chain at full size


def full_size_families(materials: Materials) -> list[str]:
    """The families that keep a chain at full size for some draw of their parameters."""
    rng = np.random.default_rng(0)
    ctx = ChainContext(materials)
    return [f.name for f in REGISTRY if not all(f.commutes_with_downscale(f.sample(rng, ctx)) for _ in range(DRAWS))]


@contextmanager
def treated_as_commuting(names: list[str]):
    """For this measurement only: these families planned as if they commuted with downscaling.
    The registry is restored on the way out, whatever happens."""
    free = {name: dataclasses.replace(FAMILIES[name], commutes_with_downscale=lambda _params: True) for name in names}
    with mock.patch.dict(FAMILIES, free):
        yield


def set_ceilings(sources, materials: dict[str, Materials], randomness: str, turns: int = BENCH_TURNS, echo=print) -> dict:
    """Per set: the production path's speed-up if each full-size family (and all of them) cost
    nothing at the reduced size, each side on the same sources in the same turns."""
    names = full_size_families(materials[S27.name])
    echo(f"families that keep a chain at full size: {', '.join(names)}")
    sides = {"as_is": [], **{name: [name] for name in names}, "all": names}
    result = {}
    for art in (S27, S3):
        job = SetJob(art.name, 0, materials[art.name], randomness)
        # Every pool image in the set's store first, so that no side pays for another's first use.
        for path in job.materials.pool:
            pool_square(path.name, "warm-up", ChainContext(job.materials))
        share = -(-len(sources) // turns)

        def turn(part, job=job):
            def run(free):
                with treated_as_commuting(free):
                    return pipeline_files(job, part)

            return [(side, lambda free=free: run(free)) for side, free in sides.items()]

        timed = timed_turns(turn(sources[first : first + share]) for first in range(0, len(sources), share))
        seconds = {side: s for side, (_files, s) in timed.items()}
        short = recipe_for_set(art.name).name  # s27, s3
        for side in sides:
            if side != "as_is":
                result[f"ceiling_{short}_{side}"] = round(seconds["as_is"] / seconds[side], 3)
        echo(f"{short}: " + ", ".join(f"{side} {result[f'ceiling_{short}_{side}']:.3f}x" for side in sides if side != "as_is"))
    return result


def frame_ceiling(videos: list[Path], rounds: int = FRAME_ROUNDS) -> dict:
    """Where our frame extraction's time goes, against the published reader's, video by video."""
    published, ours = 0.0, {}
    for _ in range(rounds):
        for video in videos:
            started = time.perf_counter()
            published_frames([video])
            published += time.perf_counter() - started
            our_frames([video], ours)
    total = sum(ours.values())
    return {
        **{f"frames_share_{part}": round(seconds / total, 3) for part, seconds in ours.items()},
        "frames_speedup": round(published / total, 2),
        "frames_ceiling_decode_only": round(published / ours["decode"], 2),
    }


def run_ceilings(sources: int = FULL_SOURCES, randomness: str = PUBLISHED, echo=print) -> dict:
    with tempfile.TemporaryDirectory(prefix="vsc-bench-ceilings-") as tmp:
        found, materials = demo_sources(Path(tmp) / "images", sources)
        echo(f"ceilings on {len(found)} demo sources")
        result = {"sources": len(found), **set_ceilings(found, materials, randomness, echo=echo)}
        make_vsc_demo(Path(tmp) / "videos", workers=default_workers())
        videos = sorted((Path(tmp) / "videos").glob("*/*.mp4"))
        echo(f"frame extraction on {len(videos)} demo videos")
        result.update(frame_ceiling(videos))
    return result
