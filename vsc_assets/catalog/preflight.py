"""Checking a data root before any run: every problem a run would hit, found at once.

What a selection needs follows from its artifacts' declared ``needs``; each
need is looked for here the way the partition runs will read it.
"""

from __future__ import annotations

import tempfile

from vsc_assets.catalog import inputs
from vsc_assets.catalog.artifacts import CATALOG, Catalog
from vsc_assets.catalog.inputs import Need
from vsc_assets.errors import InputError
from vsc_assets.layout import Layout


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


def present(layout: Layout, need: Need) -> bool:
    """Whether the root holds what the need names at all (what the default selection asks)."""
    if need in (Need.DISC21_IMAGES, Need.MATERIALS):
        return len(inputs.disc21_listing(layout)) > 0
    if need is Need.REFERENCE_VIDEOS:
        return bool(inputs.videos(layout, "reference").ids)
    if need is Need.QUERY_VIDEOS:
        return bool(inputs.videos(layout, "query").ids)
    return layout.ground_truth.is_file()


def problem(layout: Layout, need: Need) -> InputError | None:
    """Why a run would fail for want of this need; None when it is there."""
    try:
        if need is Need.DISC21_IMAGES and not present(layout, need):
            return InputError(f"{layout.disc21_dir}: no DISC21 image", "put T000000.jpg ... there, or run `vsc-assets demo`")
        if need is Need.MATERIALS:
            inputs.disc21_materials(layout)  # the same listing the partition runs make
        for kind, videos_need in (("reference", Need.REFERENCE_VIDEOS), ("query", Need.QUERY_VIDEOS)):
            if need is videos_need and not present(layout, need):
                folder = layout.videos_dir(kind)
                return InputError(f"{folder}: no {kind} video", f"put the VSC {kind} videos ({kind[0].upper()}*.mp4) there")
        if need is Need.GROUND_TRUTH:
            inputs.ground_truth(layout)  # the pair assets' own reading: missing file or columns
    except InputError as exc:
        return exc
    return None


def available(layout: Layout, catalog: Catalog = CATALOG) -> list[str]:
    """The artifacts whose inputs are under the root: the default selection."""
    return [a.name for a in catalog.artifacts if all(present(layout, need) for need in a.needs)]


def root_problems(layout: Layout, selection: list[str], catalog: Catalog = CATALOG) -> list[InputError]:
    """What would make the selected artifacts fail on this root, each with a hint; empty when ready."""
    problems = []
    if (unwritable := _writable(layout)) is not None:
        problems.append(unwritable)
    needed = {need for name in selection for need in catalog[name].needs}
    for need in Need:
        if need in needed and (found := problem(layout, need)) is not None:
            problems.append(found)
    return problems
