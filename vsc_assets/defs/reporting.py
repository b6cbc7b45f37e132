"""Turning reports of the pure builders into what the Dagster UI shows."""

import os
import socket
from contextlib import contextmanager

import dagster as dg

from vsc_assets.build.outputs import CheckOutcome
from vsc_assets.build.sets import PartitionReport
from vsc_assets.defs.resources import celery_worker_name
from vsc_assets.errors import InputError
from vsc_assets.io.contact_sheet import markdown_image
from vsc_assets.platform import progress


@contextmanager
def input_errors_fail_fast():
    """A wrong root is not fixed by running again: fail the step at once, unretried, in one line."""
    try:
        yield
    except InputError as exc:
        hint = f" (hint: {exc.hint})" if exc.hint else ""
        raise dg.Failure(description=f"{exc}{hint}", allow_retries=False) from None


def progress_logger(context: dg.AssetExecutionContext, unit: str = "sources", steps: int = 10):
    label = f"{context.asset_key.to_user_string()} {context.partition_key} ({unit})"

    def report(done: int, total: int) -> None:
        progress.notify(label, done, total)
        if done == total or done % max(1, total // steps) == 0:
            context.log.info(f"{context.partition_key}: {done}/{total} {unit}")

    return report


SKIPPED_FIRST = 3


def skipped_first(problems: list[dict], first: str = "file", label: str = "") -> dg.MetadataValue:
    """The first few skipped inputs as {item, reason}: what the CLI prints after each partition."""
    return dg.MetadataValue.json([{"item": f"{label}{p[first]}", "reason": p["reason"]} for p in problems[:SKIPPED_FIRST]])


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


def skipped_inputs(rows: list[dict], pairs_by_row: list[dict]) -> list[dict]:
    """Skipped ground-truth rows, then rows that lost pairs, as {row, reason}."""
    lost = [{"row": r["row"], "reason": f"{r['skipped']} of {r['pairs']} pairs skipped: {r['reason']}"} for r in pairs_by_row]
    return rows + lost


def check_results(checks: dict[str, CheckOutcome]) -> list[dg.AssetCheckResult]:
    return [
        dg.AssetCheckResult(
            check_name=name,
            passed=outcome.passed,
            description=outcome.description,
            metadata={k: dg.MetadataValue.json(v) if isinstance(v, list) else v for k, v in outcome.details.items()},
        )
        for name, outcome in checks.items()
    ]


def built_by() -> dict:
    """Which machine and which worker built a materialization: a Celery worker's name
    (name@host) when a step runs on one, else the run's own process."""
    worker = celery_worker_name() or f"run process {os.getpid()}"
    return {"host": dg.MetadataValue.text(socket.gethostname()), "worker": dg.MetadataValue.text(worker)}


def materialize_result(
    metadata: dict, checks: dict[str, CheckOutcome], preview: bytes | None, preview_alt: str
) -> dg.MaterializeResult:
    metadata.update(built_by())
    if preview:
        metadata["preview"] = dg.MetadataValue.md(markdown_image(preview, preview_alt))
    return dg.MaterializeResult(metadata=metadata, check_results=check_results(checks))


FAMILY_TABLE = dg.TableSchema(
    columns=[
        dg.TableColumn("family", "string", description="augmentation family (SPEC.md)"),
        dg.TableColumn("files", "int", description="output files whose chain applied it"),
        dg.TableColumn("share", "float", description="fraction of the partition's chains"),
    ]
)


def family_table(counts: dict[str, int], chains: int) -> dg.MetadataValue:
    """How often each family was applied, as a table the UI can sort."""
    records = [
        dg.TableRecord({"family": name, "files": n, "share": round(n / max(chains, 1), 4)})
        for name, n in sorted(counts.items(), key=lambda kv: -kv[1])
    ]
    return dg.MetadataValue.table(records, schema=FAMILY_TABLE)


def partition_result(report: PartitionReport) -> dg.MaterializeResult:
    metadata = {
        "files": dg.MetadataValue.int(report.files),
        "sources": dg.MetadataValue.int(report.sources),
        "bad_inputs": dg.MetadataValue.int(len(report.bad_inputs)),
        "bad_input_list": dg.MetadataValue.md(problems_markdown(report.bad_inputs)),
        "skipped_first": skipped_first(report.bad_inputs),
        "seconds": dg.MetadataValue.float(round(report.seconds, 2)),
        "images_per_second": dg.MetadataValue.float(round(report.images_per_second, 1)),
        "files_with_fallbacks": dg.MetadataValue.int(report.fallback_files),
        "family_counts": family_table(report.family_counts, report.chains),
        "manifest": dg.MetadataValue.path(str(report.manifest)),
    }
    return materialize_result(metadata, report.checks, report.preview, "20 variants of one source")
