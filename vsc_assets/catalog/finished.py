"""A partition someone else finished while this step waited for it: its checks, from what is on disk.

The step reports it, and does not build it again (catalog.claims). Each function
reads the partition's manifest and runs the builder's own checks on its files.
"""

from __future__ import annotations

from vsc_assets.builders.frames import check_decodable, check_frame_counts
from vsc_assets.builders.pair_table import check_pair_layout, table_name
from vsc_assets.builders.selected import check_selected
from vsc_assets.builders.sets import run_checks
from vsc_assets.builders.writer import FilesReport, check_digests, outcomes
from vsc_assets.catalog import inputs
from vsc_assets.io.manifest import read_manifest
from vsc_assets.keys import IdRange


def _rows(artifact, ctx) -> list[dict]:
    return read_manifest(ctx.layout.manifest_path(artifact.name, ctx.key))


def _report(artifact, ctx, rows: list[dict], checks, file_key: str = "file") -> FilesReport:
    good = [r for r in rows if not r.get("error")]
    bad = [{"file": r.get(file_key) or r.get("video_id"), "reason": r["error"]} for r in rows if r.get("error")]
    digests = check_digests(artifact.folder(ctx.layout, ctx.key), rows, artifact.name_columns)
    return FilesReport(len(good), 0.0, ctx.layout.manifest_path(artifact.name, ctx.key), {**checks, **outcomes(digests)}, bad)


def augmented_set(mode: str, pid_offset: int = 0):
    def inspect(artifact, ctx) -> FilesReport:
        rows = _rows(artifact, ctx)
        pids = IdRange(ctx.ids.first + pid_offset, ctx.ids.last + pid_offset)
        checks = run_checks(artifact.folder(ctx.layout, ctx.key), rows, mode, pids)  # in this process: a step that built nothing has no pool to use
        return _report(artifact, ctx, rows, checks, "source_file")

    return inspect


def frames(artifact, ctx) -> FilesReport:
    rows = _rows(artifact, ctx)
    folder = artifact.folder(ctx.layout, ctx.key)
    names = [r["name"] for r in rows if r["name"]]
    return _report(artifact, ctx, rows, outcomes(check_frame_counts(folder, rows), check_decodable(folder, names)))


def selected(frames_asset: str):
    def inspect(artifact, ctx) -> FilesReport:
        rows = _rows(artifact, ctx)
        frame_rows = inputs.upstream_rows(ctx.layout, frames_asset, ctx.key)
        return _report(artifact, ctx, rows, check_selected(artifact.folder(ctx.layout, ctx.key), rows, frame_rows))

    return inspect


def pair_frames(artifact, ctx) -> FilesReport:
    return _report(artifact, ctx, _rows(artifact, ctx), {})


def pair_table(artifact, ctx) -> FilesReport:
    table = read_manifest(ctx.layout.pairs_dir / table_name(artifact.name))
    return FilesReport(len(table), 0.0, ctx.layout.manifest_path(artifact.name, ctx.key), check_pair_layout(ctx.layout.pairs_dir, table_name(artifact.name)))
