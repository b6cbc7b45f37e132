"""How every partition is written: staging, files, leftovers, manifest, preview; and its check outcomes.

All of it touches only the files the partition owns (names from its manifest,
its own temp folder), never the output folder other partitions share, so its
cost does not grow with the dataset. Files are written under a temp name in the
partition's staging folder and renamed into place, so a reader never sees half
a file, and writing the same partition again is always safe.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from vsc_assets import stopping
from vsc_assets.io.atomic import remove_stale_temps, temp_dir_for, write_bytes_atomic
from vsc_assets.io.contact_sheet import Preview, write_preview
from vsc_assets.io.digests import ALGORITHM, digest_column, digest_of, file_problem, listed_files
from vsc_assets.builders.summary import Summary, skipped_files
from vsc_assets.io.manifest import write_manifest
from vsc_assets.layout import Layout

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class CheckSpec:
    """A check of a partition's outputs, declared once: the Dagster asset shows it, the builder answers it."""

    name: str
    description: str

    def outcome(self, passed: bool, **details) -> CheckOutcome:
        return CheckOutcome(self.name, passed, self.description, details)


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    description: str
    details: dict = field(default_factory=dict)


def outcomes(*results: CheckOutcome) -> dict[str, CheckOutcome]:
    return {r.name: r for r in results}


@dataclass(frozen=True)
class Target:
    """Where a partition's workers write: each file under a temp name in the partition's own
    staging folder (``temp_dir``, same filesystem), then renamed into the shared ``folder``."""

    folder: Path
    temp_dir: Path | None = None

    def write(self, name: str, data: bytes) -> str:
        """Writes ``name``; returns the digest of what was written, for its manifest row."""
        write_bytes_atomic(self.folder / name, data, temp_dir=self.temp_dir)
        return digest_of(data)


@dataclass
class FilesReport:
    """What any partition of files reports; the artifacts with more to say have reports of their own."""

    files: int
    seconds: float
    manifest: Path
    checks: dict[str, CheckOutcome]
    bad_inputs: list[dict] = field(default_factory=list)  # {file, reason}
    preview: Preview | None = None

    @property
    def summary(self) -> Summary:
        return Summary.of(self.files, "files", skipped_files(self.bad_inputs), None, self.manifest, self.seconds)


@dataclass(frozen=True)
class Written:
    manifest: Path
    preview: Preview | None
    pruned: int
    digests: CheckOutcome  # DIGESTS_SAMPLED, on a sample of what was just written
    manifest_seconds: float = 0.0  # leftovers pruned and the manifest written: grows with the partition's files
    preview_seconds: float = 0.0  # the preview and the sampled digest check: the same for any partition size


DIGEST_SAMPLE = 20  # files of a partition read back for its digest check; `vsc-assets verify` reads them all
DIGESTS_SAMPLED = CheckSpec(
    "digests_sampled", f"{DIGEST_SAMPLE} files of the partition, drawn at random, read back match the {ALGORITHM} digests its manifest records"
)


def check_digests(folder: Path, rows: list[dict], name_columns: tuple[str, ...], sample: int = DIGEST_SAMPLE) -> CheckOutcome:
    """Reads back a random sample of a partition's files and compares each with its manifest digest."""
    listed = listed_files(rows, name_columns)
    drawn = random.Random().sample(listed, min(sample, len(listed)))  # a fresh sample each time: the check is not part of the data
    wrong = [f"{name}: {problem}" for name, digest in drawn if (problem := file_problem(folder / name, digest))]
    return DIGESTS_SAMPLED.outcome(not wrong, sampled=len(drawn), of=len(listed), wrong=wrong)


class PartitionWriter:
    """One partition's outputs, from its first file to its manifest and preview."""

    def __init__(
        self, layout: Layout, asset: str, partition_key: str, folder: Path, name_columns=("name",), version: str = ""
    ):
        self.version = version  # the recipe version that makes these files, on every manifest row
        self.asset = asset
        self.partition_key = partition_key
        self.folder = folder
        self.name_columns = tuple(name_columns)  # the manifest columns that name its files
        self.manifest = layout.manifest_path(asset, partition_key)
        self.preview_path = layout.preview_path(asset, partition_key)
        self._staging = layout.staging_dir(asset, partition_key)
        self._target: Target | None = None

    def open(self) -> Target:
        """The folder made, the partition's staging folder cleared of what a killed writer left."""
        if self._target is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            # None when staging is on another filesystem: then temps sit beside the outputs.
            temp_dir = temp_dir_for(self._staging, self.folder)
            remove_stale_temps(temp_dir or self.folder)
            self._target = Target(self.folder, temp_dir)
        return self._target

    def finish(
        self,
        rows: list[dict],
        schema: pa.Schema,
        written: Iterable[str],
        preview: list[tuple[str, str]] | None = None,
        columns: int = 5,
    ) -> Written:
        """After the work: the staging folder released, files the last run wrote and this one did
        not removed, the manifest written, and a preview of ``(name, caption)`` saved. Nothing of it
        happens after a stop, or once a safety net under the work (its claim) gave way."""
        stopping.check()
        _release(self._target.temp_dir if self._target else None)
        undigested = [name for name, digest in listed_files(rows, self.name_columns) if not digest]
        if undigested:
            raise ValueError(f"{self.asset} {self.partition_key}: {len(undigested)} file(s) without a digest, e.g. {undigested[0]}")
        started = time.perf_counter()
        pruned = _prune(self.folder, names_listed(self.manifest, self.name_columns), set(written))
        schema = with_digests(schema, self.name_columns)
        write_manifest(self.manifest, [{**row, VERSION: self.version} for row in rows], with_version(schema, self.version))
        listed = time.perf_counter()
        sheet = None
        if preview:
            sheet = write_preview(self.preview_path, [self.folder / n for n, _ in preview], [c for _, c in preview], columns)
        digests = check_digests(self.folder, rows, self.name_columns)
        return Written(self.manifest, sheet, pruned, digests, listed - started, time.perf_counter() - listed)


VERSION = "version"  # the manifest column naming the recipe version that made each file
_VERSION_KEY = b"vsc_assets.version"  # the same, in the manifest's metadata (an empty manifest has no row)


def with_digests(schema: pa.Schema, name_columns: tuple[str, ...]) -> pa.Schema:
    """A manifest's schema with a digest column beside each column that names a file."""
    for column in name_columns:
        if digest_column(column) not in schema.names:
            schema = schema.insert(schema.get_field_index(column) + 1, pa.field(digest_column(column), pa.string()))
    return schema


def with_version(schema: pa.Schema, version: str) -> pa.Schema:
    """A manifest's schema with the version column, and the version in its metadata."""
    schema = schema if VERSION in schema.names else schema.append(pa.field(VERSION, pa.string()))
    return schema.with_metadata({**(schema.metadata or {}), _VERSION_KEY: version.encode()})


def manifest_version(manifest: Path) -> str | None:
    """The recipe version a partition's manifest says made it; None without one, "" before versions existed."""
    if not manifest.is_file():
        return None
    return (pq.read_schema(manifest).metadata or {}).get(_VERSION_KEY, b"").decode()


def names_listed(manifest: Path, columns: tuple[str, ...] = ("name",)) -> set[str]:
    """The output names a manifest records (empty without one); reads only those columns."""
    if not manifest.is_file():
        return set()
    table = pq.read_table(manifest, columns=list(columns))
    return {n for column in columns for n in table.column(column).to_pylist() if n}


def _prune(folder: Path, before: set[str], now: set[str]) -> int:
    """Remove the files the previous materialization wrote and this one did not (a source that
    became unreadable, a video that got shorter); returns how many."""
    gone = sorted(before - now)
    for name in gone:
        (folder / name).unlink(missing_ok=True)
    return len(gone)


def _release(temp_dir: Path | None) -> None:
    """Remove the partition's temp folder once its writers are done (only if empty: a live
    writer of a concurrent run of the same key keeps its files)."""
    if temp_dir is None:
        return
    for folder in (temp_dir, temp_dir.parent):
        try:
            folder.rmdir()
        except OSError:
            return
