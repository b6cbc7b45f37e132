"""Every artifact the platform makes, and every input it shows, declared once.

Everything else derives from these declarations: the Dagster assets with
their checks, partitions and jobs (``defs/``), the sensor's fingerprints
(``refresh``), the root's preflight, and the CLI's selection, plan and file
counts. An artifact's ``build`` is where the asset boundary ends: it takes the
parsed partition, gathers what the partition reads from the input index and
upstream manifests, and hands all of it to a Dagster-free builder.

To add an artifact, declare it here (and give it a builder).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, Union

import pyarrow.parquet as pq

from vsc_assets.augment.families import PUBLISHED
from vsc_assets.builders.frames import FRAME_CHECKS, VideoReport, build_frames_partition
from vsc_assets.builders.grey import build_grey_partition
from vsc_assets.builders.pair_frames import CANDIDATE_FILES, PAIR_FRAME_CHECKS, StageReport, build_pair_frames_partition
from vsc_assets.builders.pair_table import (
    PAIR_CHECKS,
    PAIR_FILES_COLUMNS,
    QUERY_PICKLE,
    REF_PICKLE,
    PairPaths,
    PairReport,
    Staged,
    build_positive_pairs,
    check_pair_layout,
    table_name,
)
from vsc_assets.builders.selected import SELECTED_CHECKS, build_selected_partition
from vsc_assets.builders.sets import NAME_RE, SET_CHECKS, SetReport, build_colour_partition
from vsc_assets.builders.writer import CheckSpec, FilesReport, PartitionWriter, Progress, manifest_version
from vsc_assets.catalog import finished, inputs
from vsc_assets.catalog.inputs import Need
from vsc_assets.constants import DEFAULT_SOURCES_PER_PARTITION, DEFAULT_VIDEOS_PER_PARTITION, REFERENCE_ID_BASE
from vsc_assets.io.digests import listed_files
from vsc_assets.io.manifest import read_manifest
from vsc_assets.keys import IdRange
from vsc_assets.layout import Layout

Report = Union[SetReport, VideoReport, StageReport, PairReport, FilesReport]

# Recipe versions: bump one whenever what its artifact writes changes (tests/test_versions.py pins them).
AUGMENTED_VERSION = "4"  # the augmentation engine: the colour sets, their greyscale twins, the reference set
FRAMES_VERSION = "1"
SELECTED_VERSION = "1"
PAIR_FRAMES_VERSION = "1"
PAIRS_VERSION = "1"
BW_SUFFIX = "_bw"
UNPARTITIONED = "all"  # the key an unpartitioned artifact's manifest, preview and claim are kept under
DISC21, VSC = "disc21", "vsc"  # the asset groups the UI shows


@dataclass(frozen=True)
class Partitioning:
    """A dynamic partitions definition: keys are ranges of ids, registered as data arrives."""

    name: str
    job: str  # the job that runs every artifact of one key (what a backfill of "everything" runs)
    unit: str  # what a partition's progress counts, and the flag that sizes new keys: --<unit>-per-partition
    default_size: int  # ids per key on a root whose first keys are not made yet, unless asked otherwise
    ids: Callable[[Layout], Sequence[int]]  # the ids the keys must cover


DISC21_SOURCES = Partitioning(
    "disc21_sources", "disc21_sets", "sources", DEFAULT_SOURCES_PER_PARTITION,
    lambda layout: range(inputs.source_count(inputs.disc21_listing(layout))),
)  # fmt: skip
REFERENCE_VIDEOS = Partitioning(
    "reference_videos", "reference_videos_job", "videos", DEFAULT_VIDEOS_PER_PARTITION,
    lambda layout: inputs.videos(layout, "reference").numbers,
)  # fmt: skip
QUERY_VIDEOS = Partitioning(
    "query_videos", "query_videos_job", "videos", DEFAULT_VIDEOS_PER_PARTITION,
    lambda layout: inputs.videos(layout, "query").numbers,
)  # fmt: skip


@dataclass(frozen=True)
class InputSpec:
    """An input folder or file of the root, shown upstream of the artifacts that read it."""

    name: str
    group: str
    description: str
    kinds: tuple[str, ...]


DISC21_IMAGES = InputSpec("disc21_training_images", DISC21, "DISC21 training images under <root>/data/training_images (T000000.jpg ...).", ("jpeg",))
QUERY_VIDEO_FILES = InputSpec("vsc_query_videos", VSC, "VSC query videos, <root>/data/train/query/Q*.mp4.", ("mp4",))
REFERENCE_VIDEO_FILES = InputSpec("vsc_reference_videos", VSC, "VSC reference videos, <root>/data/train/reference/R*.mp4.", ("mp4",))
GROUND_TRUTH = InputSpec("vsc_ground_truth", VSC, "<root>/data/train/train_matching_ground_truth.csv.", ("csv",))
INPUTS = (DISC21_IMAGES, QUERY_VIDEO_FILES, REFERENCE_VIDEO_FILES, GROUND_TRUTH)


@dataclass(frozen=True)
class BuildContext:
    """What the asset boundary hands a build: the partition parsed once, the settings, progress."""

    layout: Layout
    ids: IdRange | None  # None for an unpartitioned artifact
    base_seed: int
    workers: int
    progress: Progress | None = None
    randomness: str = PUBLISHED  # the augmented sets' noise, shuffle and perspective (docs/recipe.md)
    version: str = ""  # the artifact's recipe version in this mode, written on every manifest row
    upstream_keys: tuple[str, ...] = ()  # an unpartitioned artifact: every key of its partitioned upstream

    @property
    def key(self) -> str:
        return self.ids.key if self.ids is not None else UNPARTITIONED


@dataclass(frozen=True)
class Artifact:
    name: str
    group: str
    description: str
    partitioning: Partitioning | None
    deps: tuple[str, ...]  # the artifacts and inputs it reads, by name
    needs: tuple[Need, ...]  # the root's inputs it needs; the first is what its fingerprint covers
    checks: tuple[CheckSpec, ...]
    build: Callable[[Artifact, BuildContext], Report]
    folder: Callable[[Layout, str | None], Path]  # where its files go, for a partition key
    count: Callable[[Artifact, Layout], int]  # what a researcher checks first: its files (pairs for the pair assets)
    # Changes whenever what it writes changes (tests pin each version to the digest of a small build).
    version: str
    # Its checks on a partition someone else finished (it is reported, not rebuilt).
    inspect: Callable[[Artifact, BuildContext], Report] | None = None
    randomized: bool = False  # what it writes depends on the randomness mode too
    name_columns: tuple[str, ...] = ("name",)  # the manifest columns that name its files
    eager: bool = False  # rebuilt by the automation once its upstream changed
    kinds: tuple[str, ...] = ("jpeg", "parquet")
    # The table that lists its files with their digests, when not its partitions' manifests (the pair table).
    files_table: Callable[[Layout], Path] | None = None
    bookkeeping: frozenset[str] = frozenset()  # files of its folder that no table lists (the pickles, the table)

    @property
    def job(self) -> str:
        """The job that builds it: its partitioning's, which builds every artifact of a key together; else its own."""
        return self.partitioning.job if self.partitioning is not None else f"{self.name}_job"

    def version_for(self, randomness: str = PUBLISHED) -> str:
        """The version a partition made in this mode carries: the mode is part of what makes a file."""
        return self.version if not self.randomized or randomness == PUBLISHED else f"{self.version}+{randomness}"

    def writer(self, ctx: BuildContext) -> PartitionWriter:
        folder = self.folder(ctx.layout, ctx.key)
        return PartitionWriter(ctx.layout, self.name, ctx.key, folder, self.name_columns, ctx.version)

    def files_listed(self, layout: Layout, key: str) -> list[Path] | None:
        """The files a partition's manifest says were written; None without a manifest."""
        manifest = layout.manifest_path(self.name, key)
        if not manifest.is_file():
            return None
        rows = pq.read_table(manifest, columns=[*self.name_columns, "error"]).to_pylist()
        folder = self.folder(layout, key)
        return [folder / name for name, _ in listed_files(rows, self.name_columns)]

    def file_tables(self, layout: Layout) -> list[tuple[str | None, Path]]:
        """(key, table) of each partition whose files are listed with their digests: its manifest, or the one table."""
        if self.files_table is not None:
            table = self.files_table(layout)
            return [(None, table)] if table.is_file() else []
        folder = layout.manifests_dir(self.name)
        return [(p.stem, p) for p in sorted(folder.glob("*.parquet"))] if folder.is_dir() else []

    def made_by(self, layout: Layout, key: str | None) -> str | None:
        """The recipe version a partition's manifest names; None without a manifest."""
        return manifest_version(layout.manifest_path(self.name, key or UNPARTITIONED))

    def present(self, layout: Layout, key: str | None) -> bool:
        """Whether the files of a materialized partition are all still there."""
        if self.partitioning is None:
            return _pair_layout_whole(layout, self.name)
        files = self.files_listed(layout, key)
        return files is not None and all(p.is_file() for p in files)

    def whole_in(self, layout: Layout, key: str | None, version: str) -> bool:
        """Whether a partition's files are all there, made by this recipe version."""
        return self.made_by(layout, key) == version and self.present(layout, key)


def _pair_layout_whole(layout: Layout, name: str) -> bool:
    try:
        return all(c.passed for c in check_pair_layout(layout.pairs_dir, table_name(name)).values())
    except (OSError, ValueError):
        return False


# ------------------------------------------------------------------ how files are counted


def _count_in_folder(match: Callable[[str], bool]):
    def count(artifact: Artifact, layout: Layout) -> int:
        folder = artifact.folder(layout, None)
        return sum(1 for n in os.listdir(folder) if match(n)) if folder.is_dir() else 0

    return count


def _count_staged(artifact: Artifact, layout: Layout) -> int:
    """Staged pairs whose two frames were read."""
    folder = layout.manifests_dir(artifact.name)
    manifests = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    return sum(1 for m in manifests for r in read_manifest(m) if not r["error"])


def _count_pairs(artifact: Artifact, layout: Layout) -> int:
    table = layout.pairs_dir / table_name(artifact.name)
    return len(read_manifest(table)) if table.is_file() else 0


_jpegs = _count_in_folder(lambda n: n.endswith(".jpg"))
_set_files = _count_in_folder(NAME_RE.match)


def _set_folder(name: str) -> Callable[[Layout, str | None], Path]:
    return lambda layout, key: layout.set_dir(name)

# ------------------------------------------------------------------ the augmented sets


def _build_colour_set(artifact: Artifact, ctx: BuildContext) -> SetReport:
    listing = inputs.disc21_listing(ctx.layout)
    return build_colour_partition(
        artifact.writer(ctx), artifact.name, ctx.base_seed, ctx.workers,
        sources=inputs.disc21_sources_in(listing, ctx.ids), materials=inputs.disc21_materials(ctx.layout, listing),
        pid_range=ctx.ids, progress=ctx.progress, randomness=ctx.randomness,
    )  # fmt: skip


def colour_set(name: str) -> Artifact:
    """docs/recipe.md artifact 1: per DISC21 source, its 256 px resize and 19 augmentation chains."""
    return Artifact(
        name=name, group=DISC21, partitioning=DISC21_SOURCES, deps=(DISC21_IMAGES.name,),
        needs=(Need.DISC21_IMAGES, Need.MATERIALS), checks=SET_CHECKS, build=_build_colour_set,
        folder=_set_folder(name), count=_set_files, version=AUGMENTED_VERSION, randomized=True,
        inspect=finished.augmented_set("RGB"),
        description=f"{name}: per DISC21 source, its 256 px resize and 19 augmentation chains.",
    )  # fmt: skip


def grey_set(colour: Artifact) -> Artifact:
    """docs/recipe.md artifact 2: every file of a colour set's partition as single-channel greyscale."""
    name = colour.name + BW_SUFFIX

    def build(artifact: Artifact, ctx: BuildContext) -> SetReport:
        rows = inputs.upstream_rows(ctx.layout, colour.name, ctx.key)
        return build_grey_partition(
            artifact.writer(ctx), artifact.name, colour.folder(ctx.layout, ctx.key), rows, ctx.workers, ctx.ids, ctx.progress
        )

    return Artifact(
        name=name, group=DISC21, partitioning=DISC21_SOURCES, deps=(colour.name,),
        needs=colour.needs, checks=SET_CHECKS, build=build,
        folder=_set_folder(name), count=_set_files, version=colour.version, randomized=colour.randomized,
        inspect=finished.augmented_set("L"),
        description=f"{name}: every file of {colour.name} as single-channel greyscale.",
    )  # fmt: skip


S27 = colour_set("train_v1_s27_all")
S3 = colour_set("train_v1_s3_all")
S27_BW = grey_set(S27)
S3_BW = grey_set(S3)

# ------------------------------------------------------------------ the VSC artifacts


def frames(kind: str, partitioning: Partitioning, videos: InputSpec, need: Need) -> Artifact:
    """docs/recipe.md artifact 3: one full-resolution frame per second of every video of a kind."""

    def build(artifact: Artifact, ctx: BuildContext) -> VideoReport:
        found = inputs.videos(ctx.layout, kind).in_range(ctx.ids)
        return build_frames_partition(artifact.writer(ctx), found, ctx.workers, ctx.progress)

    return Artifact(
        name=f"{kind}_frames", group=VSC, partitioning=partitioning, deps=(videos.name,), needs=(need,),
        checks=FRAME_CHECKS, build=build, folder=lambda layout, key: layout.frames_dir(kind), count=_jpegs,
        version=FRAMES_VERSION, inspect=finished.frames,
        description=(
            f"One full-resolution frame per second of every {kind} video (the frame on screen at second k), "
            f"in data/train/{kind}_one_second_imageio_v3/."
        ),
    )  # fmt: skip


QUERY_FRAMES = frames("query", QUERY_VIDEOS, QUERY_VIDEO_FILES, Need.QUERY_VIDEOS)
REFERENCE_FRAMES = frames("reference", REFERENCE_VIDEOS, REFERENCE_VIDEO_FILES, Need.REFERENCE_VIDEOS)


def _build_selected(artifact: Artifact, ctx: BuildContext) -> VideoReport:
    rows = inputs.upstream_rows(ctx.layout, REFERENCE_FRAMES.name, ctx.key)
    return build_selected_partition(artifact.writer(ctx), rows, REFERENCE_FRAMES.folder(ctx.layout, ctx.key))


SELECTED_FRAMES = Artifact(
    name="training_images_ref1", group=VSC, partitioning=REFERENCE_VIDEOS, deps=(REFERENCE_FRAMES.name,),
    needs=(Need.REFERENCE_VIDEOS,), checks=SELECTED_CHECKS, build=_build_selected,
    folder=lambda layout, key: layout.selected_frames_dir, count=_jpegs,
    version=SELECTED_VERSION, inspect=finished.selected(REFERENCE_FRAMES.name),
    description="docs/recipe.md artifact 4: the frame of the middle second of each reference video (by number, not by file-name sort).",
)  # fmt: skip


def _build_reference_set(artifact: Artifact, ctx: BuildContext) -> SetReport:
    rows = inputs.upstream_rows(ctx.layout, SELECTED_FRAMES.name, ctx.key)
    return build_colour_partition(
        artifact.writer(ctx), artifact.name, ctx.base_seed, ctx.workers,
        sources=inputs.reference_sources(rows, SELECTED_FRAMES.folder(ctx.layout, ctx.key)),
        materials=inputs.disc21_materials(ctx.layout), pid_range=ctx.ids.shifted(-REFERENCE_ID_BASE),
        progress=ctx.progress, randomness=ctx.randomness,
    )  # fmt: skip


REFERENCE_SET_NAME = "train_v1_s3_r1_all"
REFERENCE_SET = Artifact(
    name=REFERENCE_SET_NAME, group=VSC, partitioning=REFERENCE_VIDEOS, deps=(SELECTED_FRAMES.name, DISC21_IMAGES.name),
    needs=(Need.REFERENCE_VIDEOS, Need.MATERIALS), checks=SET_CHECKS, build=_build_reference_set,
    folder=_set_folder(REFERENCE_SET_NAME), count=_set_files, version=AUGMENTED_VERSION, randomized=True,
    inspect=finished.augmented_set("RGB", -REFERENCE_ID_BASE),
    description=(
        "docs/recipe.md artifact 5: the s3 recipe on the selected reference frames, with the DISC21 overlay pool, "
        "fonts and emoji. pid = the reference id's number - 100000 (R100042 -> 42): stable when videos are added."
    ),
)  # fmt: skip


def _build_pair_frames(artifact: Artifact, ctx: BuildContext) -> StageReport:
    rows = inputs.ground_truth_for_queries(ctx.layout, ctx.ids)
    return build_pair_frames_partition(artifact.writer(ctx), rows, inputs.video_folders(ctx.layout), ctx.workers, ctx.progress)


PAIR_FRAMES = Artifact(
    name="pair_frames", group=VSC, partitioning=QUERY_VIDEOS,
    deps=(QUERY_VIDEO_FILES.name, REFERENCE_VIDEO_FILES.name, GROUND_TRUTH.name), needs=(Need.GROUND_TRUTH,),
    checks=PAIR_FRAME_CHECKS, build=_build_pair_frames, folder=lambda layout, key: layout.pair_frames_dir(key),
    count=_count_staged, name_columns=CANDIDATE_FILES, version=PAIR_FRAMES_VERSION, inspect=finished.pair_frames,
    description="The frames of every candidate pair whose query is in this partition, seeked by timestamp.",
)  # fmt: skip


def _build_positive_pairs(artifact: Artifact, ctx: BuildContext) -> PairReport:
    layout = ctx.layout
    staged = []
    for key in ctx.upstream_keys:
        if layout.manifest_path(PAIR_FRAMES.name, key).is_file():
            staged.append(Staged(PAIR_FRAMES.folder(layout, key), inputs.upstream_rows(layout, PAIR_FRAMES.name, key)))
    rows, rejected = inputs.ground_truth(layout)
    paths = PairPaths(
        artifact.name, layout.pairs_dir, layout.manifest_path(artifact.name, ctx.key), layout.preview_path(artifact.name, ctx.key),
        ctx.version,
    )  # fmt: skip
    return build_positive_pairs(paths, staged, rows, rejected, inputs.video_folders(layout), ctx.base_seed)


PAIRS_NAME = "positive_pairs"
POSITIVE_PAIRS = Artifact(
    name=PAIRS_NAME, group=VSC, partitioning=None, deps=(PAIR_FRAMES.name,), needs=(Need.GROUND_TRUTH,),
    checks=PAIR_CHECKS, build=_build_positive_pairs, folder=lambda layout, key: layout.pairs_dir, count=_count_pairs,
    version=PAIRS_VERSION, inspect=finished.pair_table, name_columns=PAIR_FILES_COLUMNS,
    files_table=lambda layout: layout.pairs_dir / table_name(PAIRS_NAME),
    bookkeeping=frozenset({QUERY_PICKLE, REF_PICKLE, table_name(PAIRS_NAME)}),
    eager=True,  # rebuilt once the pair frames of any query partition change, after all in-flight ones finish
    description="docs/recipe.md artifact 6: numbered pairs in ground-truth order, permuted with a seeded generator, in the training layout.",
)  # fmt: skip


@dataclass(frozen=True)
class Catalog:
    """The artifacts, in the order a full run takes them, and the inputs they show upstream."""

    artifacts: tuple[Artifact, ...]
    inputs: tuple[InputSpec, ...] = INPUTS

    def __getitem__(self, name: str) -> Artifact:
        for artifact in self.artifacts:
            if artifact.name == name:
                return artifact
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.artifacts)

    @property
    def partitionings(self) -> tuple[Partitioning, ...]:
        """Each partitions definition once, in the order its first artifact comes."""
        found = {a.partitioning.name: a.partitioning for a in self.artifacts if a.partitioning is not None}
        return tuple(found.values())

    def partitioned_by(self, partitioning: Partitioning) -> tuple[Artifact, ...]:
        return tuple(a for a in self.artifacts if a.partitioning == partitioning)

    @property
    def jobs(self) -> dict[str, tuple[Artifact, ...]]:
        """Each job, named once, with the artifacts it builds (Artifact.job)."""
        out: dict[str, tuple[Artifact, ...]] = {}
        for artifact in self.artifacts:
            out[artifact.job] = (*out.get(artifact.job, ()), artifact)
        return out

    def ordered(self, names) -> list[str]:
        wanted = set(names)
        return [n for n in self.names if n in wanted]

    def extended(self, *more: Artifact) -> Catalog:
        return Catalog(self.artifacts + more, self.inputs)


CATALOG = Catalog(
    (S27, S3, S27_BW, S3_BW, REFERENCE_FRAMES, SELECTED_FRAMES, REFERENCE_SET, QUERY_FRAMES, PAIR_FRAMES, POSITIVE_PAIRS)
)
