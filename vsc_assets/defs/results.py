"""Turning the builders' reports into what the Dagster UI shows: metadata, previews, check results."""

from __future__ import annotations

import os
import socket
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pandas as pd

from vsc_assets import progress
from vsc_assets.stopping import Stopped
from vsc_assets.builders.frames import VideoReport
from vsc_assets.builders.pair_frames import StageReport
from vsc_assets.builders.pair_table import PairReport
from vsc_assets.builders.sets import SetReport
from vsc_assets.builders.summary import SerialSeconds, Summary
from vsc_assets.builders.writer import CheckOutcome, FilesReport
from vsc_assets.catalog.artifacts import Report
from vsc_assets.defs.liveness import LAUNCHED_BY_TAG
from vsc_assets.defs.resources import celery_worker_name
from vsc_assets.errors import InputError
from vsc_assets.io.contact_sheet import Preview, markdown_image


@contextmanager
def fail_fast():
    """A wrong root is not fixed by running again, and a stop is not to be undone by a retry:
    fail the step at once, unretried, in one line."""
    try:
        yield
    except InputError as exc:
        hint = f" (hint: {exc.hint})" if exc.hint else ""
        raise dg.Failure(description=f"{exc}{hint}", allow_retries=False) from None
    except Stopped as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None


def progress_logger(context: dg.AssetExecutionContext, unit: str = "sources", steps: int = 10):
    label = f"{context.asset_key.to_user_string()} {context.partition_key} ({unit})"

    def report(done: int, total: int) -> None:
        progress.notify(label, done, total)
        if done == total or done % max(1, total // steps) == 0:
            context.log.info(f"{context.partition_key}: {done}/{total} {unit}")

    return report


def problems_markdown(problems: list[dict], first: str = "file") -> str:
    if not problems:
        return "none"
    lines = [f"| {first} | reason |", "| --- | --- |"]
    lines += [f"| {p[first]} | {p['reason']} |" for p in problems]
    return "\n".join(lines)


def skipped_pairs_metadata(per_row: list[dict]) -> dict:
    """How many pairs each ground-truth row lost, and why (pairs whose frame can't be read)."""
    lines = ["| row | pairs | skipped | why |", "| ---: | ---: | ---: | --- |"]
    lines += [f"| {r['row']} | {r['pairs']} | {r['skipped']} | {r['reason']} |" for r in per_row]
    return {
        "skipped_pairs": dg.MetadataValue.int(sum(r["skipped"] for r in per_row)),
        "skipped_pairs_by_row": dg.MetadataValue.md("\n".join(lines) if per_row else "none"),
    }


def _value(value) -> dg.MetadataValue:
    """A summary entry as the UI shows it."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, list, Path)):
        raise TypeError(f"a summary entry of type {type(value).__name__}")
    if isinstance(value, Path):
        return dg.MetadataValue.path(str(value))
    if isinstance(value, list):
        return dg.MetadataValue.json(value)
    if isinstance(value, str):
        return dg.MetadataValue.text(value)
    return dg.MetadataValue.int(value) if isinstance(value, int) else dg.MetadataValue.float(value)


def summary_metadata(summary: Summary) -> dict[str, dg.MetadataValue]:
    return {name: _value(value) for name, value in summary.entries().items()}


def read_summary(metadata: dict[str, dg.MetadataValue]) -> Summary:
    """The summary of a materialization, from its event's metadata (MissingEntry if one is absent)."""
    return Summary.read({name: entry.value for name, entry in metadata.items()})


def read_serial_seconds(metadata: dict[str, dg.MetadataValue]) -> SerialSeconds:
    """Where a set partition's run was serial, from its event's metadata (MissingEntry if absent)."""
    return SerialSeconds.read({name: entry.value for name, entry in metadata.items()})


def check_results(checks: dict[str, CheckOutcome]) -> list[dg.AssetCheckResult]:
    return [
        dg.AssetCheckResult(
            check_name=outcome.name,
            passed=outcome.passed,
            description=outcome.description,
            metadata={k: dg.MetadataValue.json(v) if isinstance(v, list) else v for k, v in outcome.details.items()},
        )
        for outcome in checks.values()
    ]


def built_by() -> dict:
    """Which machine and which worker built a materialization: a Celery worker's name
    (name@host) when a step runs on one, else the run's own process."""
    worker = celery_worker_name() or f"run process {os.getpid()}"
    return {"host": dg.MetadataValue.text(socket.gethostname()), "worker": dg.MetadataValue.text(worker)}


IMPLICIT_JOB = "__ASSET_JOB"  # Dagster's job for assets launched without one: asset backfills, automation, `dagster asset materialize`


def launched_by(run: dg.DagsterRun) -> str:
    """Who launched a run, in words, from the tags Dagster and `vsc-assets` put on it."""
    tags = run.tags
    if "dagster/backfill" in tags:
        who = f"backfill {tags['dagster/backfill']}"
    elif "dagster/sensor_name" in tags:
        who = f"sensor {tags['dagster/sensor_name']}"
    elif LAUNCHED_BY_TAG in tags:
        who = tags[LAUNCHED_BY_TAG]
    else:
        who = "by hand (the UI or the dagster CLI)"
    return f"{who}, retry of run {tags['dagster/parent_run_id']}" if "dagster/parent_run_id" in tags else who


def run_metadata(context: dg.AssetExecutionContext) -> dict:
    """The job that made a materialization and who launched it, whoever did: the Runs page and the
    asset's events name the same job."""
    job = context.run.job_name
    return {
        "job": dg.MetadataValue.text(job if job != IMPLICIT_JOB else f"{job} (Dagster's job for assets launched without one)"),
        "launched_by": dg.MetadataValue.text(launched_by(context.run)),
    }


def _result(report: Report, metadata: dict, checks: dict[str, CheckOutcome], preview: Preview | None, preview_alt: str) -> dg.MaterializeResult:
    metadata = {**summary_metadata(report.summary), **metadata, **built_by()}
    if preview:
        metadata["preview"] = dg.MetadataValue.md(markdown_image(preview.inline, preview_alt))
        metadata["preview_file"] = dg.MetadataValue.path(str(preview.file))  # the full sheet
    return dg.MaterializeResult(metadata=metadata, check_results=check_results(checks))


FAMILY_TABLE = dg.TableSchema(
    columns=[
        dg.TableColumn("family", "string", description="augmentation family (docs/recipe.md)"),
        dg.TableColumn("files", "int", description="output files whose chain applied it"),
        dg.TableColumn("share", "float", description="fraction of the partition's chains"),
    ]
)


def family_table(table: pd.DataFrame) -> dg.MetadataValue:
    """How often each family was applied, as a table the UI can sort."""
    return dg.MetadataValue.table([dg.TableRecord(r) for r in table.to_dict("records")], schema=FAMILY_TABLE)


def _bad_inputs(report) -> dict:
    """The inputs a partition of files skipped, all of them, with their reasons."""
    return {
        "bad_inputs": dg.MetadataValue.int(len(report.bad_inputs)),
        "bad_input_list": dg.MetadataValue.md(problems_markdown(report.bad_inputs)),
    }


def _set_result(report: SetReport) -> dg.MaterializeResult:
    metadata = {
        **_bad_inputs(report),
        "sources": dg.MetadataValue.int(report.sources),
        "images_per_second": dg.MetadataValue.float(round(report.images_per_second, 1)),
        "files_with_fallbacks": dg.MetadataValue.int(report.fallback_files),
        "family_counts": family_table(report.family_table),
        SerialSeconds.ENTRY: dg.MetadataValue.json(report.serial.entries()),
    }
    if report.randomness:
        metadata["randomness"] = dg.MetadataValue.text(report.randomness)
    return _result(report, metadata, report.checks, report.preview, "the first variants of one source (all 20: preview_file)")


def _video_result(report: VideoReport) -> dg.MaterializeResult:
    metadata = {
        **_bad_inputs(report),
        "videos": dg.MetadataValue.int(report.videos),
        "frames_per_second": dg.MetadataValue.float(round(report.per_second, 1)),
    }
    return _result(report, metadata, report.checks, report.preview, "frames")


def _stage_result(report: StageReport) -> dg.MaterializeResult:
    metadata = {
        "candidate_pairs": dg.MetadataValue.int(report.candidates),
        "skipped_rows": dg.MetadataValue.int(len(report.skipped_rows)),
        "skipped_row_list": dg.MetadataValue.md(problems_markdown(report.skipped_rows, "row")),
        **skipped_pairs_metadata(report.skipped_pairs),
    }
    return _result(report, metadata, report.checks, None, "")


def _pairs_result(report: PairReport) -> dg.MaterializeResult:
    metadata = {
        "ground_truth_rows_used": dg.MetadataValue.int(report.rows_used),
        "skipped_rows": dg.MetadataValue.int(len(report.skipped_rows)),
        "skipped_row_list": dg.MetadataValue.md(problems_markdown(report.skipped_rows, "row")),
        "unreadable_pairs": dg.MetadataValue.int(report.unreadable_pairs),
        **skipped_pairs_metadata(report.skipped_pairs),
        "table": dg.MetadataValue.path(str(report.table)),
    }
    return _result(report, metadata, report.checks, report.preview, "query | reference")


def _files_result(report: FilesReport) -> dg.MaterializeResult:
    return _result(report, _bad_inputs(report), report.checks, report.preview, "files")


RESULTS = {SetReport: _set_result, VideoReport: _video_result, StageReport: _stage_result, PairReport: _pairs_result, FilesReport: _files_result}


def materialize_result(context: dg.AssetExecutionContext, report: Report, extra: dict | None = None) -> dg.MaterializeResult:
    """What one step shows: its report's summary, metadata, preview and check results."""
    result = RESULTS[type(report)](report)
    metadata = {**(result.metadata or {}), **run_metadata(context), **(extra or {})}
    return dg.MaterializeResult(metadata=metadata, check_results=result.check_results)
