"""Building one partition of an augmented colour set, without Dagster.

The builder is handed everything it reads (its sources, the materials, the
partition's writer) and returns a report; the Dagster layer turns that into
metadata and check results, and the benchmarks and tests call it directly.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from vsc_assets.augment.families import PUBLISHED
from vsc_assets.augment.generate import SetJob, Source, output_name, render_source
from vsc_assets.augment.materials import Materials
from vsc_assets.augment.record import record_json
from vsc_assets.builders.summary import SerialSeconds, Summary, skipped_files
from vsc_assets.builders.writer import DIGESTS_SAMPLED, CheckOutcome, CheckSpec, PartitionWriter, Progress, Target, outcomes
from vsc_assets.constants import OUTPUT_SIZE, VARIANTS_PER_SOURCE
from vsc_assets.io.contact_sheet import Preview
from vsc_assets.io.images import BadImageError, jpeg_problems, load_rgb, verified_size
from vsc_assets.io.digests import digest_column
from vsc_assets.io.manifest import AUGMENTED_SCHEMA
from vsc_assets.keys import IdRange
from vsc_assets.parallel import PoolUse, run_tasks

NAME_RE = re.compile(r"^(\d+)_(\d+)\.jpg$")
NAME_DIGEST = digest_column("name")

FILES_PER_SOURCE = CheckSpec("files_per_source", f"{VARIANTS_PER_SOURCE} files for every readable source of the partition")
DECODABLE_256 = CheckSpec("decodable_256", f"every file a decodable {OUTPUT_SIZE}x{OUTPUT_SIZE} JPEG of the set's mode")
NAMES_PARSE = CheckSpec(
    "names_parse", "every file of the partition is named {pid}_{j}.jpg with a pid of its range, and listed in its manifest"
)
SET_CHECKS = (FILES_PER_SOURCE, DECODABLE_256, NAMES_PARSE, DIGESTS_SAMPLED)


@dataclass
class SetReport:
    set_name: str
    partition_key: str
    sources: int
    files: int
    seconds: float
    bad_inputs: list[dict]
    manifest: Path
    preview: Preview | None
    family_counts: dict
    fallback_files: int
    checks: dict[str, CheckOutcome]
    chains: int = 0  # files made by a chain (variant 0, the plain resize, is not one)
    work_seconds: float = 0.0  # inside the per-source (or per-file) work; the rest is bookkeeping
    verified: dict[str, int] = field(default_factory=dict)  # files the workers decoded in full, by size
    randomness: str | None = None  # the mode the chains drew noise, shuffle and perspective in
    serial: SerialSeconds = SerialSeconds.NONE  # where the run left workers without work (docs/benchmarks.md, "A big machine")

    @property
    def summary(self) -> Summary:
        return Summary.of(self.files, "files", skipped_files(self.bad_inputs), None, self.manifest, self.seconds)

    @property
    def family_table(self) -> pd.DataFrame:
        """How often each family was applied: files whose chain applied it, and their share of the chains."""
        table = pd.DataFrame({"family": list(self.family_counts), "files": list(self.family_counts.values())}, columns=["family", "files"])
        table["share"] = (table["files"] / max(self.chains, 1)).round(4)
        return table.sort_values("files", ascending=False, kind="stable").reset_index(drop=True)

    @property
    def bookkeeping_seconds(self) -> float:
        return max(0.0, self.seconds - self.work_seconds)

    @property
    def images_per_second(self) -> float:
        return self.files / self.seconds if self.seconds > 0 else 0.0


# ------------------------------------------------------------------ checks


# A worker checks this many files at a time, about 10 ms of stats and reads: far more than
# handing it the task costs, and enough tasks for every worker from a few hundred sources on.
FILES_PER_CHECK_TASK = 250


@dataclass(frozen=True)
class FileCheck:
    """What every worker checking one partition's files shares."""

    folder: Path
    mode: str


def missing_and_undecodable(job: FileCheck, chunk: tuple[list[int], dict[str, int]]) -> tuple[list[str], list[str]]:
    """Of these sources' files, those that are missing and those that are not decodable; runs in a
    worker. ``chunk``: the sources, and the size each file had when a worker decoded it in full."""
    pids, verified = chunk
    names = [output_name(pid, j) for pid in pids for j in range(VARIANTS_PER_SOURCE)]
    missing = [name for name in names if not (job.folder / name).is_file()]
    return missing, jpeg_problems(job.folder, names, (OUTPUT_SIZE, OUTPUT_SIZE), job.mode, verified)


def check_tasks(files: int, workers: int) -> int:
    """How many tasks the files of a partition are checked in: at most one per worker."""
    return max(1, min(workers, -(-files // FILES_PER_CHECK_TASK)))


def check_files(folder: Path, pids: list[int], mode: str, verified: dict[str, int], workers: int) -> tuple[CheckOutcome, CheckOutcome]:
    """``files_per_source`` and ``decodable_256``: the partition's files split between the workers.
    ``verified``: files the workers decoded in full after writing them, by size then."""
    tasks = check_tasks(len(pids) * VARIANTS_PER_SOURCE, workers)
    share = -(-len(pids) // tasks) if pids else 1
    chunks = []
    for first in range(0, len(pids), share):
        part = pids[first : first + share]
        names = (output_name(pid, j) for pid in part for j in range(VARIANTS_PER_SOURCE))
        chunks.append((part, {n: verified[n] for n in names if n in verified}))
    missing: list[str] = []
    bad: list[str] = []
    for chunk_missing, chunk_bad in run_tasks(missing_and_undecodable, FileCheck(folder, mode), chunks, workers):
        missing += chunk_missing
        bad += chunk_bad
    return (
        FILES_PER_SOURCE.outcome(not missing, missing=missing[:20], missing_count=len(missing)),
        DECODABLE_256.outcome(not bad, bad=bad[:20], bad_count=len(bad)),
    )


def check_names(folder: Path, rows: list[dict], pid_range: IdRange) -> CheckOutcome:
    """Training code takes the class from int(name.split('_')[0]): every name of the partition
    parses to a pid of its range, and no file of its range is one the manifest does not list.

    Looks only at this partition's names (one stat per unlisted name of its range), never
    at the folder other partitions share.
    """
    names = [r["name"] for r in rows if r["name"]]
    bad = []
    for name in names:
        match = NAME_RE.match(name)
        if not match or int(match.group(1)) not in pid_range or int(match.group(2)) >= VARIANTS_PER_SOURCE:
            bad.append(name)
    bad += sorted(n for n, count in Counter(names).items() if count > 1)
    listed = {r["pid"] for r in rows if r["name"]}
    strays = [
        output_name(pid, j)
        for pid in pid_range
        if pid not in listed
        for j in range(VARIANTS_PER_SOURCE)
        if (folder / output_name(pid, j)).exists()
    ]
    return NAMES_PARSE.outcome(
        not bad and not strays, bad=bad[:20], bad_count=len(bad), unlisted=strays[:20], unlisted_count=len(strays)
    )


def run_checks(
    folder: Path, rows: list[dict], mode: str, pid_range: IdRange, verified: dict[str, int] | None = None, workers: int = 1
) -> dict[str, CheckOutcome]:
    """The partition's checks; its files are looked at by ``workers`` processes."""
    pids = sorted({r["pid"] for r in rows if not r["error"]})
    return outcomes(*check_files(folder, pids, mode, verified or {}, workers), check_names(folder, rows, pid_range))


# ------------------------------------------------------------------ the per-source work


@dataclass(frozen=True)
class SetTask:
    """What every worker of one partition shares: the set's recipe and materials, and where to write."""

    job: SetJob
    target: Target


def augment_source(task: SetTask, source: Source) -> list[dict]:
    """Write the 20 files of one source; return its manifest rows (one error row if unreadable)."""
    base = {"pid": source.pid, "source_file": source.path.name}
    try:
        image, info = load_rgb(source.path)
    except BadImageError as exc:
        return [{**base, "name": None, NAME_DIGEST: None, "variant": None, "record": None, "error": exc.reason}]
    rows = []
    for name, data, record in render_source(task.job, source, image, info):
        digest = task.target.write(name, data)
        rows.append({**base, "name": name, NAME_DIGEST: digest, "variant": record["variant"], "record": record_json(record), "error": None})
    return rows


@dataclass
class Tally:
    """What the records of some files say about their chains, for the report: summed over sources."""

    families: Counter = field(default_factory=Counter)  # files whose chain applied each family
    chains: int = 0  # files made by a chain (variant 0, the plain resize, is not one)
    fallback_files: int = 0

    @classmethod
    def of(cls, rows: list[dict]) -> Tally:
        tally = cls()
        for row in rows:
            if row["error"]:
                continue
            record = json.loads(row["record"])
            if record["variant"]:
                tally.families.update(record["families"])
                tally.chains += 1
            tally.fallback_files += bool(record["fallbacks"])
        return tally

    def add(self, other: Tally) -> None:
        self.families.update(other.families)
        self.chains += other.chains
        self.fallback_files += other.fallback_files


def made_and_verified(task: SetTask, item: tuple) -> tuple[list[dict], dict[str, int], Tally]:
    """Runs in a worker: the per-source work, then a full decode of every file it wrote, read
    back from disk. Returns the rows, the size of each file that decoded (so the partition's
    check afterwards need only see those files unchanged), and the tally of their records."""
    work, source = item
    rows = work(task, source)
    sizes = {row["name"]: verified_size(task.target.folder / row["name"], (OUTPUT_SIZE, OUTPUT_SIZE), "RGB") for row in rows if row["name"]}
    return rows, {name: n for name, n in sizes.items() if n is not None}, Tally.of(rows)


# ------------------------------------------------------------------ one partition


def build_colour_partition(
    writer: PartitionWriter,
    set_name: str,
    base_seed: int,
    workers: int,
    sources: list[Source],
    materials: Materials,
    pid_range: IdRange,
    progress: Progress | None = None,
    work=augment_source,
    randomness: str = PUBLISHED,
) -> SetReport:
    """``work`` is the per-source work: the scale benchmark swaps in a copy of ready files to time
    everything else. ``randomness``: docs/recipe.md, "Frozen randomness"."""
    started = time.perf_counter()
    task = SetTask(SetJob(set_name, base_seed, materials, randomness), writer.open())
    rows: list[dict] = []
    verified: dict[str, int] = {}
    tally = Tally()
    work_started, pool_began = time.perf_counter(), time.monotonic()
    items = [(work, source) for source in sources]
    spans: list = []
    for done, (source_rows, source_verified, source_tally) in enumerate(run_tasks(made_and_verified, task, items, workers, spans), start=1):
        rows.extend(source_rows)
        verified.update(source_verified)
        tally.add(source_tally)
        if progress:
            progress(done, len(sources))
    work_seconds = time.perf_counter() - work_started
    pool_use = PoolUse.of(spans, max(1, min(workers, len(items))), pool_began, time.monotonic())
    report = finish_set(writer, set_name, pid_range, rows, "RGB", started, work_seconds, verified, pool_use, tally, workers)
    report.randomness = randomness
    return report


def finish_set(
    writer: PartitionWriter,
    set_name: str,
    pid_range: IdRange,
    rows: list[dict],
    mode: str,
    started: float,
    work_seconds: float,
    verified: dict[str, int],
    pool_use: PoolUse,
    tally: Tally,
    workers: int,
) -> SetReport:
    """After the work: manifest and preview through the writer, then the checks and the report.
    ``pool_use``: how long the work left workers without work, for the report's serial seconds;
    ``tally``: the records' tally, which the workers made; ``workers``: they check the files."""
    bad = [{"file": r["source_file"], "reason": r["error"]} for r in rows if r["error"]]
    good = [r for r in rows if not r["error"]]
    pids = sorted({r["pid"] for r in good})
    captions: dict[str, str] = {}
    for r in good:
        if r["pid"] == pids[0]:
            record = json.loads(r["record"])
            captions[r["name"]] = f"{record['variant']}: {', '.join(record['families']) or 'resize'}"
    preview = None
    if pids:
        names = [output_name(pids[0], j) for j in range(VARIANTS_PER_SOURCE)]
        preview = [(n, captions.get(n, n)) for n in names]
    written = writer.finish(rows, AUGMENTED_SCHEMA, (r["name"] for r in rows if r["name"]), preview)
    checking = time.perf_counter()
    checks = {**run_checks(writer.folder, rows, mode, pid_range, verified, workers), **outcomes(written.digests)}
    serial = SerialSeconds(pool_use.start, pool_use.tail, written.manifest_seconds, written.preview_seconds, time.perf_counter() - checking)
    return SetReport(
        set_name=set_name,
        partition_key=writer.partition_key,
        sources=len(pids) + len(bad),
        files=len(good),
        seconds=time.perf_counter() - started,
        bad_inputs=bad,
        manifest=written.manifest,
        preview=written.preview,
        family_counts=dict(sorted(tally.families.items())),
        fallback_files=tally.fallback_files,
        checks=checks,
        chains=tally.chains,
        work_seconds=work_seconds,
        verified=verified,
        serial=serial,
    )
