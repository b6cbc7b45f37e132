"""Positive query/reference pairs (docs/recipe.md, artifact 6), without Dagster.

The pair frames of every query partition are numbered in ground-truth order,
permuted with a seeded generator and laid out as the training code reads them;
that layout is built in a temp folder and swapped in whole.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from vsc_assets.builders.pair_frames import CANDIDATE_FILES, CANDIDATE_SCHEMA, row_durations, skipped_pairs_by_row
from vsc_assets.builders.summary import Summary, skipped_rows
from vsc_assets.builders.writer import DIGESTS_SAMPLED, VERSION, CheckOutcome, CheckSpec, check_digests, outcomes, with_version
from vsc_assets.io.atomic import TEMP_PREFIX
from vsc_assets.io.contact_sheet import Preview, write_preview
from vsc_assets.io.digests import digest_column
from vsc_assets.io.manifest import read_manifest, write_manifest
from vsc_assets.pairs.ground_truth import GtRow
from vsc_assets.pairs.rule import pair_times, shuffled_numbers

PAIR_SCHEMA = pa.schema(
    [
        ("pair", pa.int64()),
        ("shuffled", pa.int64()),
        ("query_id", pa.string()),
        ("ref_id", pa.string()),
        ("query_time", pa.float64()),
        ("ref_time", pa.float64()),
        ("gt_row", pa.int64()),
        ("u", pa.int64()),
        ("query_path", pa.string()),
        (digest_column("query_path"), pa.string()),
        ("ref_path", pa.string()),
        (digest_column("ref_path"), pa.string()),
    ]
)
PAIR_FILES_COLUMNS = ("query_path", "ref_path")  # the table's columns that name its files
# What was skipped: one row per pair whose frame can't be read, one per unusable ground-truth row (u null).
PAIR_KEY_FIELDS = ("gt_row", "u", "query_id", "ref_id", "query_time", "ref_time")
SKIPPED_SCHEMA = pa.schema([CANDIDATE_SCHEMA.field(name) for name in PAIR_KEY_FIELDS] + [("reason", pa.string())])
QUERY_PICKLE = "pull_gt_all_shuffle_q.pickle"
REF_PICKLE = "pull_gt_all_shuffle_r.pickle"

PAIR_FILES = CheckSpec("pair_files_exist", "both files of every pair exist")
PICKLES_MATCH = CheckSpec("pickles_match_folders", "each pickle maps every pair folder to its one file")
PAIR_CHECKS = (PAIR_FILES, PICKLES_MATCH, DIGESTS_SAMPLED)


@dataclass(frozen=True)
class Staged:
    """One query partition's pair frames: its folder and its manifest's rows."""

    folder: Path
    rows: list[dict]


def table_name(name: str) -> str:
    """The pair table's file in the layout folder, named after its artifact."""
    return f"{name}.parquet"


@dataclass(frozen=True)
class PairPaths:
    """Where the pair table goes: the layout folder, the skipped-pairs manifest, the preview;
    ``name`` (the artifact's) names the table file and keys the permutation's seed."""

    name: str
    final: Path
    skipped_manifest: Path
    preview: Path
    version: str = ""  # the recipe version, on every row of the table and of the skipped manifest

    @property
    def table(self) -> str:
        return table_name(self.name)


@dataclass
class PairReport:
    pairs: int
    rows_used: int
    skipped_rows: list[dict]
    unreadable_pairs: int
    skipped_pairs: list[dict]  # per ground-truth row that lost pairs: how many, and why
    manifest: Path  # every skipped pair and row, with its reason
    seconds: float
    table: Path
    preview: Preview | None
    checks: dict[str, CheckOutcome]

    @property
    def summary(self) -> Summary:
        total = len(self.skipped_rows) + sum(r["skipped"] for r in self.skipped_pairs)
        return Summary.of(self.pairs, "pairs", skipped_rows(self.skipped_rows, self.skipped_pairs), total, self.manifest, self.seconds)


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def build_positive_pairs(
    paths: PairPaths,
    staged: list[Staged],
    rows: list[GtRow],
    rejected: list[dict],
    folders: dict[str, Path],
    base_seed: int,
) -> PairReport:
    """``staged``: every query partition's pair frames, in key order; ``rows``/``rejected``: the
    ground truth as parsed; ``folders``: the video folders by kind (to say why a row gave nothing)."""
    started = time.perf_counter()
    candidates, folder_of_row = [], {}
    for partition in staged:
        for c in partition.rows:
            candidates.append(c)
            folder_of_row[c["gt_row"]] = partition.folder
    skipped = list(rejected)
    cache: dict = {}
    for row in rows:
        if row.row in folder_of_row:
            continue
        reason = row_durations(row, folders, cache)
        if not isinstance(reason, str):
            reason = "no pair fits inside the segment" if not pair_times(row) else "its query partition is not materialized"
        skipped.append({"row": row.row, "reason": reason})
    skipped.sort(key=lambda s: s["row"])
    staged_columns = [*CANDIDATE_FILES, *(digest_column(c) for c in CANDIDATE_FILES)]
    frame = pd.DataFrame(candidates, columns=[*PAIR_KEY_FIELDS, *staged_columns, "error"])
    frame = frame.astype({"gt_row": "int64", "u": "int64"}).sort_values(["gt_row", "u"], kind="stable")
    lost = frame[frame["error"].notna()]
    readable = frame[frame["error"].isna()].reset_index(drop=True)
    skipped_rows = lost[[*PAIR_KEY_FIELDS, "error"]].rename(columns={"error": "reason"}).to_dict("records") + [
        {"gt_row": s["row"], "u": None, "query_id": None, "ref_id": None, "query_time": None, "ref_time": None, "reason": s["reason"]}
        for s in skipped
    ]
    write_manifest(paths.skipped_manifest, [{**r, VERSION: paths.version} for r in skipped_rows], with_version(SKIPPED_SCHEMA, paths.version))
    unreadable = len(candidates) - len(readable)
    # Numbered in ground-truth order, each number's folder named by the seeded permutation.
    folders = pd.Series(shuffled_numbers(len(readable), base_seed, paths.name), dtype="int64").astype(str)
    table = readable.assign(
        pair=range(len(readable)),
        shuffled=folders.astype("int64"),
        query_path="gt_query/" + folders + "/" + readable["query_id"] + ".jpg",
        ref_path="gt_ref/" + folders + "/" + readable["ref_id"] + ".jpg",
        # Each file is a link (or copy) of a staged frame: the digest its staging recorded.
        **{digest_column(laid_out): readable[digest_column(staged)] for laid_out, staged in zip(PAIR_FILES_COLUMNS, CANDIDATE_FILES)},
    )

    final = paths.final
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{final.name}-", dir=final.parent))
    try:
        for c in table.itertuples(index=False):
            staged_in = folder_of_row[c.gt_row]
            for src, path in ((c.query_file, c.query_path), (c.ref_file, c.ref_path)):
                (work / path).parent.mkdir(parents=True)
                _link_or_copy(staged_in / src, work / path)
        (work / "gt_query").mkdir(exist_ok=True)
        (work / "gt_ref").mkdir(exist_ok=True)
        # Each pickle maps a pair's folder to its one file, as the training code reads them.
        for pickle_name, column in ((QUERY_PICKLE, "query_path"), (REF_PICKLE, "ref_path")):
            files = table[column].str.split("/")
            (work / pickle_name).write_bytes(pickle.dumps(dict(zip(files.str[1], files.str[2]))))
        write_manifest(work / paths.table, table[list(PAIR_SCHEMA.names)].assign(**{VERSION: paths.version}), with_version(PAIR_SCHEMA, paths.version))
        _swap_in(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    preview = _pair_preview(final, table.head(8).to_dict("records"), paths.preview)
    return PairReport(
        pairs=len(table),
        rows_used=readable["gt_row"].nunique(),
        skipped_rows=skipped,
        unreadable_pairs=unreadable,
        skipped_pairs=skipped_pairs_by_row(candidates),
        manifest=paths.skipped_manifest,
        seconds=time.perf_counter() - started,
        table=final / paths.table,
        preview=preview,
        checks=check_pair_layout(final, paths.table),
    )


def _swap_in(work: Path, final: Path) -> None:
    """Replace ``final`` by ``work``; a reader sees the old layout or the new one."""
    old = None
    if final.exists():
        old = final.with_name(f"{TEMP_PREFIX}{final.name}-old-{os.getpid()}")
        final.rename(old)
    work.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _pair_preview(final: Path, table: list[dict], sheet: Path) -> Preview | None:
    paths = [final / p for row in table for p in (row["query_path"], row["ref_path"])]
    captions = [f"pair {row['shuffled']}: {vid} at {t:.2f} s" for row in table
                for vid, t in ((row["query_id"], row["query_time"]), (row["ref_id"], row["ref_time"]))]  # fmt: skip
    return write_preview(sheet, paths, captions, columns=2) if paths else None


def check_pair_layout(final: Path, table_name: str) -> dict[str, CheckOutcome]:
    table = read_manifest(final / table_name)
    missing = [p for row in table for p in (row["query_path"], row["ref_path"]) if not (final / p).is_file()]
    q_map = pickle.loads((final / QUERY_PICKLE).read_bytes())
    r_map = pickle.loads((final / REF_PICKLE).read_bytes())
    mismatched = []
    for sub, mapping in (("gt_query", q_map), ("gt_ref", r_map)):
        folders = {p.name: sorted(f.name for f in p.iterdir()) for p in (final / sub).iterdir()}
        if set(folders) != set(mapping):
            mismatched.append(f"{sub}: {len(folders)} folders, {len(mapping)} pickle entries")
        mismatched += [f"{sub}/{k}" for k, files in folders.items() if files != [mapping.get(k)]]
    return outcomes(
        PAIR_FILES.outcome(not missing, missing=missing[:20], missing_count=len(missing)),
        PICKLES_MATCH.outcome(not mismatched, mismatched=mismatched[:20]),
        check_digests(final, table, PAIR_FILES_COLUMNS),
    )
