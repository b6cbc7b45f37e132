"""Turning a partition report into what the Dagster UI shows."""


import dagster as dg

from vsc_assets.io.contact_sheet import markdown_image
from vsc_assets.sets import PartitionReport


def progress_logger(context: dg.AssetExecutionContext, steps: int = 10):
    def report(done: int, total: int) -> None:
        if done == total or done % max(1, total // steps) == 0:
            context.log.info(f"{context.partition_key}: {done}/{total} sources")

    return report


def _bad_inputs_markdown(bad: list[dict]) -> str:
    if not bad:
        return "none"
    lines = ["| file | reason |", "| --- | --- |"]
    lines += [f"| {b['file']} | {b['reason']} |" for b in bad]
    return "\n".join(lines)


def partition_result(report: PartitionReport) -> dg.MaterializeResult:
    metadata = {
        "files": dg.MetadataValue.int(report.files),
        "sources": dg.MetadataValue.int(report.sources),
        "bad_inputs": dg.MetadataValue.int(len(report.bad_inputs)),
        "bad_input_list": dg.MetadataValue.md(_bad_inputs_markdown(report.bad_inputs)),
        "seconds": dg.MetadataValue.float(round(report.seconds, 2)),
        "images_per_second": dg.MetadataValue.float(round(report.images_per_second, 1)),
        "files_with_fallbacks": dg.MetadataValue.int(report.fallback_files),
        "family_counts": dg.MetadataValue.json(report.family_counts),
        "manifest": dg.MetadataValue.path(str(report.manifest)),
    }
    if report.preview:
        metadata["preview"] = dg.MetadataValue.md(markdown_image(report.preview, "20 variants of one source"))
    checks = [
        dg.AssetCheckResult(
            check_name=name,
            passed=outcome.passed,
            description=outcome.description,
            metadata={k: dg.MetadataValue.json(v) if isinstance(v, list) else v for k, v in outcome.details.items()},
        )
        for name, outcome in report.checks.items()
    ]
    return dg.MaterializeResult(metadata=metadata, check_results=checks)
