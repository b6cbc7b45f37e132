"""Checking the files a root holds, or a copy of them elsewhere, against the digests their manifests record.

Every partition's manifest lists its files with the digest of what was written
(io/digests.py). A file is *missing*, *changed* (its bytes differ: edited,
truncated, a bad copy), listed *without a digest* (written before digests were
kept), or *not in the manifest* (in an artifact's folder, listed by no
partition). Reads every listed file, or a random fraction of them.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pyarrow.parquet as pq

from vsc_assets.catalog.artifacts import CATALOG, UNPARTITIONED, Artifact, Catalog
from vsc_assets.io.digests import CHANGED, MISSING, NO_DIGEST, digest_column, file_problem, listed_files
from vsc_assets.io.atomic import write_bytes_atomic
from vsc_assets.layout import Layout

UNLISTED = "not in any manifest"
KINDS = (MISSING, CHANGED, NO_DIGEST, UNLISTED)
NO_PARTITION = "-"  # the partition named for a file no manifest lists
Progress = Callable[[str, int, int], None]  # (artifact, files read, files to read)


@dataclass(frozen=True)
class Problem:
    artifact: str
    partition: str
    path: Path  # where the file is (or should be), under the tree checked
    kind: str


@dataclass
class Verified:
    """What one artifact's check found."""

    artifact: str
    partitions: int = 0
    listed: int = 0  # files its manifests list
    read: int = 0  # of them, read and compared (all of them unless sampled)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        return {kind: n for kind in KINDS if (n := sum(p.kind == kind for p in self.problems))}


@dataclass(frozen=True)
class Listing:
    """One partition's files as its manifest lists them: (name, digest or None), under ``folder``."""

    partition: str
    folder: Path
    files: list[tuple[str, str | None]]  # the files of its rows without an error
    named: set[str]  # every name it has, rows with an error too (a pair whose other frame failed keeps its file)


def listings(artifact: Artifact, layout: Layout) -> Iterator[Listing]:
    """Every partition that has a manifest (the pair table, for the artifact whose files it lists)."""
    for key, table in artifact.file_tables(layout):
        columns = pq.read_schema(table).names
        wanted = [c for c in (*artifact.name_columns, *(digest_column(c) for c in artifact.name_columns), "error") if c in columns]
        rows = pq.read_table(table, columns=wanted).to_pylist()
        files = listed_files(rows, artifact.name_columns)
        named = {r[c] for r in rows for c in artifact.name_columns if r.get(c)}
        yield Listing(key or UNPARTITIONED, artifact.folder(layout, key), files, named)


def _on_disk(folder: Path, recursive: bool) -> set[str]:
    """The files a folder holds, relative to it: no hidden temp files, no bookkeeping tables."""
    if not folder.is_dir():
        return set()
    if not recursive:
        return {e.name for e in os.scandir(folder) if e.is_file() and not e.name.startswith(".")}
    found = set()
    for parent, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found |= {os.path.relpath(os.path.join(parent, f), folder) for f in files if not f.startswith(".")}
    return found


def verify_artifact(
    artifact: Artifact, layout: Layout, files_root: Path | None = None, sample: float = 1.0, progress: Progress | None = None
) -> Verified:
    """``files_root``: a copy of the root's tree to check instead of the root (the manifests are read from the root)."""
    started = time.perf_counter()
    found = Verified(artifact.name)

    def where(folder: Path) -> Path:
        return folder if files_root is None else files_root / folder.relative_to(layout.root)

    parts = list(listings(artifact, layout))
    found.partitions = len(parts)
    found.listed = sum(len(p.files) for p in parts)
    chosen = [(p, f) for p in parts for f in p.files if sample >= 1 or random.random() < sample]
    listed_in: dict[Path, set[str]] = {}
    for p in parts:
        listed_in.setdefault(where(p.folder), set()).update(p.named)
    for i, (part, (name, digest)) in enumerate(chosen, start=1):
        path = where(part.folder) / name
        kind = file_problem(path, digest)
        if kind:
            found.problems.append(Problem(artifact.name, part.partition, path, kind))
        found.read += 1
        if progress and (i == len(chosen) or i % 500 == 0):
            progress(artifact.name, i, len(chosen))
    # A file no partition lists: in a folder the artifact's manifests point into.
    for folder, names in listed_in.items():
        for extra in sorted(_on_disk(folder, recursive=artifact.partitioning is None) - names - artifact.bookkeeping):
            found.problems.append(Problem(artifact.name, NO_PARTITION, folder / extra, UNLISTED))
    found.seconds = time.perf_counter() - started
    return found


def verify(
    layout: Layout,
    selection: list[str],
    catalog: Catalog = CATALOG,
    files_root: Path | None = None,
    sample: float = 1.0,
    progress: Progress | None = None,
) -> list[Verified]:
    return [verify_artifact(catalog[name], layout, files_root, sample, progress) for name in catalog.ordered(selection)]


def write_problem_list(problems: list[Problem], where: Path) -> Path:
    """Every problem, one tab-separated line each (artifact, partition, path, problem), written whole.
    ``where``: a file, or a folder to put a time-stamped one in."""
    path = where / f"verify-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.tsv" if where.suffix != ".tsv" else where
    lines = ["artifact\tpartition\tpath\tproblem"] + [f"{p.artifact}\t{p.partition}\t{p.path}\t{p.kind}" for p in problems]
    write_bytes_atomic(path, ("\n".join(lines) + "\n").encode(), make_parents=True)
    return path
