"""What changed under the root since the last look: fingerprints per partition, without Dagster.

A partition's fingerprint covers exactly the inputs its outputs depend on, so
a new image, a replaced video or an edited ground-truth row changes only the
fingerprints of the partitions that read it. Which artifacts a fingerprint
refreshes follows from each artifact's declaration (its first ``need``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from vsc_assets.catalog import inputs
from vsc_assets.catalog.artifacts import CATALOG, Catalog
from vsc_assets.catalog.inputs import Need
from vsc_assets.constants import SOURCE_STRIDE
from vsc_assets.catalog.partition_sizes import Asked, new_keys
from vsc_assets.keys import IdRange
from vsc_assets.layout import Layout
from vsc_assets.video.ids import id_number

# The name of each fingerprint in the sensor's cursor: "<partitions definition>/<label>".
LABELS = {Need.DISC21_IMAGES: "disc21", Need.REFERENCE_VIDEOS: "reference", Need.QUERY_VIDEOS: "query", Need.GROUND_TRUTH: "pairs"}


def groups(catalog: Catalog = CATALOG) -> dict[str, list[str]]:
    """"<partitions definition>/<label>" -> the artifacts whose partitions that fingerprint refreshes."""
    out: dict[str, list[str]] = {}
    for artifact in catalog.artifacts:
        if artifact.partitioning is not None:
            out.setdefault(f"{artifact.partitioning.name}/{LABELS[artifact.needs[0]]}", []).append(artifact.name)
    return out


def _stat_digest(paths, extra: str = "") -> str:
    """Name, size and mtime of each file (one stat each): what changes when a file is replaced."""
    h = hashlib.blake2b(digest_size=16)
    for name, path in sorted((os.path.basename(p), p) for p in map(os.fspath, paths)):
        try:
            st = os.stat(path)
            h.update(f"{name}\x1f{st.st_size}\x1f{st.st_mtime_ns}\n".encode())
        except FileNotFoundError:
            h.update(f"{name}\x1fmissing\n".encode())
    h.update(extra.encode())
    return h.hexdigest()


@dataclass
class Snapshot:
    fingerprints: dict[str, dict[str, str]]  # "<pdef>/<label>" -> key -> digest
    ground_truth: str


class _Look:
    """One look at the root's inputs, each read once, for every fingerprint of every key."""

    def __init__(self, layout: Layout):
        self.layout = layout
        self.images = inputs.disc21_listing(layout)
        self.videos = {kind: inputs.videos(layout, kind) for kind in ("query", "reference")}
        self._rows = None
        self._references = None

    def references(self) -> dict[str, Path]:
        if self._references is None:
            self._references = self.videos["reference"].paths()
        return self._references

    def rows(self):
        if self._rows is None:
            gt = self.layout.ground_truth
            self._rows = [(id_number(r.query_id, "query"), r) for r in inputs.ground_truth(self.layout)[0]] if gt.is_file() else []
        return self._rows

    def digest(self, need: Need, ids: IdRange) -> str:
        if need is Need.DISC21_IMAGES:
            names = self.images.names(ids.first * SOURCE_STRIDE, (ids.last + 1) * SOURCE_STRIDE, SOURCE_STRIDE)
            folder = os.fspath(self.images.folder)
            return _stat_digest(os.path.join(folder, n) for n in names)
        if need is Need.REFERENCE_VIDEOS:
            return _stat_digest(list(self.videos["reference"].in_range(ids).values()))
        mine = list(self.videos["query"].in_range(ids).values())
        if need is Need.QUERY_VIDEOS:
            return _stat_digest(mine)
        # The pairs of a query partition: its queries, their ground-truth rows and the references those name.
        references = self.references()
        my_rows = [r for n, r in self.rows() if n in ids]
        refs = [references.get(r.ref_id, self.layout.videos_dir("reference") / f"{r.ref_id}.mp4") for r in my_rows]
        return _stat_digest(mine + refs, repr(my_rows))


def take_snapshot(
    layout: Layout, registered: dict[str, list[str]], asked: Asked | None = None, catalog: Catalog = CATALOG
) -> tuple[Snapshot, dict[str, list[str]]]:
    """Fingerprints of every key, registered or needed for new ids; and the new keys.

    ``registered`` is keyed by partitions definition name; new keys are sized as the
    root's first keys were unless ``asked`` (catalog.partition_sizes). The names come
    from the input index; only each partition's own sources are stat'ed.
    """
    look = _Look(layout)
    added, fps = new_keys(layout, registered, asked, catalog), {}
    labels = {label: need for need, label in LABELS.items()}
    for partitioning in catalog.partitionings:
        name = partitioning.name
        keys = registered.get(name, []) + added[name]
        for group in groups(catalog):
            pdef, label = group.split("/")
            if pdef == name and keys:
                fps[group] = {key: look.digest(labels[label], IdRange.parse(key)) for key in keys}
    gt = hashlib.blake2b(layout.ground_truth.read_bytes(), digest_size=16).hexdigest() if layout.ground_truth.is_file() else ""
    return Snapshot(fingerprints=fps, ground_truth=gt), added


def changed(
    before: dict[str, dict[str, str]], after: dict[str, dict[str, str]], catalog: Catalog = CATALOG
) -> dict[tuple[str, str], list[str]]:
    """(partitions definition, key) -> the assets whose inputs changed since ``before``."""
    refreshes = groups(catalog)
    out: dict[tuple[str, str], list[str]] = {}
    for name, digests in after.items():
        pdef = name.split("/")[0]
        for key, digest in digests.items():
            if before.get(name, {}).get(key) != digest:
                out.setdefault((pdef, key), []).extend(refreshes[name])
    return out
