"""Checking a data root before any run: every problem a run would hit, found at once."""

from __future__ import annotations

import tempfile

from vsc_assets.constants import DISC21_SETS, REFERENCE_SET
from vsc_assets.errors import InputError
from vsc_assets.layout import Layout
from vsc_assets.pairs.ground_truth import parse_ground_truth
from vsc_assets.platform.inputs import disc21_assets, disc21_listing, videos


def _writable(layout: Layout) -> InputError | None:
    folder = layout.root
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".vsc-write-test-"):
            pass
    except OSError as exc:
        return InputError(f"cannot write under {layout.root}: {exc.strerror or exc}", "choose a --root you can write to")
    return None


def _ground_truth(layout: Layout) -> InputError | None:
    try:
        parse_ground_truth(layout.ground_truth)  # the pair assets' own reading: missing file or columns
    except InputError as exc:
        return exc
    return None


def root_problems(layout: Layout, selection: list[str]) -> list[InputError]:
    """What would make the selected assets fail on this root, each with a hint; empty when ready."""
    problems = []
    if (problem := _writable(layout)) is not None:
        problems.append(problem)
    wanted = set(selection)
    if wanted & {*DISC21_SETS, REFERENCE_SET}:
        listing = disc21_listing(layout)
        if wanted & set(DISC21_SETS) and not len(listing):
            problems.append(InputError(f"{layout.disc21_dir}: no DISC21 image", "put T000000.jpg ... there, or run `vsc-assets demo`"))
        try:
            disc21_assets(layout, listing)
        except InputError as exc:
            problems.append(exc)
    for kind, assets in (("reference", {"reference_frames", "training_images_ref1", REFERENCE_SET}), ("query", {"query_frames"})):
        folder = layout.videos_dir(kind)
        if wanted & assets and not videos(layout, kind).ids:
            problems.append(InputError(f"{folder}: no {kind} video", f"put the VSC {kind} videos ({kind[0].upper()}*.mp4) there"))
    if wanted & {"pair_frames", "positive_pairs"} and (problem := _ground_truth(layout)) is not None:
        problems.append(problem)
    return problems
