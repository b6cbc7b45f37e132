"""The VSC artifacts (shared/SPEC.md 3-6): frames, selected frames, the reference set, pairs."""

import dagster as dg

from vsc_assets.build.frames import VideoReport, build_frames_partition, build_selected_partition
from vsc_assets.build.pair_table import build_pair_frames_partition, build_positive_pairs
from vsc_assets.build.sets import build_colour_partition, reference_pid_range, reference_sources
from vsc_assets.constants import GROUP_VSC, REFERENCE_SET
from vsc_assets.defs.disc21 import RETRY, check_specs
from vsc_assets.defs.partitions import query_videos_partitions_def, reference_videos_partitions_def
from vsc_assets.defs.reporting import (
    built_by,
    input_errors_fail_fast,
    materialize_result,
    partition_result,
    problems_markdown,
    progress_logger,
    skipped_first,
    skipped_inputs,
    skipped_pairs_metadata,
)
from vsc_assets.defs.resources import VscRoot
from vsc_assets.platform.inputs import disc21_assets, videos

vsc_query_videos = dg.AssetSpec(
    "vsc_query_videos", group_name=GROUP_VSC, kinds={"mp4"}, description="VSC query videos, <root>/data/train/query/Q*.mp4."
)
vsc_reference_videos = dg.AssetSpec(
    "vsc_reference_videos", group_name=GROUP_VSC, kinds={"mp4"}, description="VSC reference videos, <root>/data/train/reference/R*.mp4."
)
vsc_ground_truth = dg.AssetSpec(
    "vsc_ground_truth", group_name=GROUP_VSC, kinds={"csv"}, description="<root>/data/train/train_matching_ground_truth.csv."
)

FRAME_CHECKS = (
    ("frame_count_matches_duration", "one frame per second k <= duration - 1 for every readable video"),
    ("frames_decodable", "every frame a decodable JPEG"),
)


def _video_result(context: dg.AssetExecutionContext, report: VideoReport, unit: str) -> dg.MaterializeResult:
    for note in report.notes:
        context.log.info(note)
    metadata = {
        "videos": dg.MetadataValue.int(report.videos),
        "files": dg.MetadataValue.int(report.files),
        "bad_inputs": dg.MetadataValue.int(len(report.bad_inputs)),
        "bad_input_list": dg.MetadataValue.md(problems_markdown(report.bad_inputs)),
        "skipped_first": skipped_first(report.bad_inputs),
        "seconds": dg.MetadataValue.float(round(report.seconds, 2)),
        f"{unit}_per_second": dg.MetadataValue.float(round(report.per_second, 1)),
        "manifest": dg.MetadataValue.path(str(report.manifest)),
    }
    return materialize_result(metadata, report.checks, report.preview, "frames")


def frames_asset(kind: str, partitions_def: dg.PartitionsDefinition, source: dg.AssetSpec) -> dg.AssetsDefinition:
    name = f"{kind}_frames"

    @dg.asset(
        name=name,
        group_name=GROUP_VSC,
        partitions_def=partitions_def,
        deps=[source],
        retry_policy=RETRY,
        check_specs=[dg.AssetCheckSpec(c, asset=name, description=d) for c, d in FRAME_CHECKS],
        kinds={"jpeg", "parquet"},
        description=(
            f"One full-resolution frame per second of every {kind} video (the frame on screen at second k), "
            f"in data/train/{kind}_one_second_imageio_v3/."
        ),
    )
    def _frames(context: dg.AssetExecutionContext, vsc_root: VscRoot) -> dg.MaterializeResult:
        with input_errors_fail_fast():
            layout = vsc_root.layout()
            report = build_frames_partition(
                layout, kind, name, context.partition_key, vsc_root.worker_count(context.instance),
                videos=videos(layout, kind).in_key(context.partition_key), progress=progress_logger(context, "videos"),
            )  # fmt: skip
        return _video_result(context, report, "frames")

    return _frames


query_frames = frames_asset("query", query_videos_partitions_def, vsc_query_videos)
reference_frames = frames_asset("reference", reference_videos_partitions_def, vsc_reference_videos)


@dg.asset(
    group_name=GROUP_VSC,
    partitions_def=reference_videos_partitions_def,
    deps=[reference_frames],
    retry_policy=RETRY,
    check_specs=[dg.AssetCheckSpec("selected_frame_exists", asset="training_images_ref1", description="one selected frame per readable reference video")],
    kinds={"jpeg"},
)
def training_images_ref1(context: dg.AssetExecutionContext, vsc_root: VscRoot) -> dg.MaterializeResult:
    """The frame of the middle second of each reference video (by number, not by file-name sort)."""
    with input_errors_fail_fast():
        report = build_selected_partition(vsc_root.layout(), "training_images_ref1", "reference_frames", context.partition_key)
    return _video_result(context, report, "frames")


@dg.asset(
    name=REFERENCE_SET,
    group_name=GROUP_VSC,
    partitions_def=reference_videos_partitions_def,
    deps=[training_images_ref1, "disc21_training_images"],
    retry_policy=RETRY,
    check_specs=check_specs(REFERENCE_SET),
    kinds={"jpeg", "parquet"},
)
def train_v1_s3_r1_all(context: dg.AssetExecutionContext, vsc_root: VscRoot) -> dg.MaterializeResult:
    """The s3 recipe on the selected reference frames, with the DISC21 overlay pool, fonts and emoji.

    pid = the reference id's number - 100000 (R100042 -> 42): stable when videos
    are added, and the published sorted position on a complete contiguous range.
    """
    layout = vsc_root.layout()
    with input_errors_fail_fast():
        report = build_colour_partition(
            layout, REFERENCE_SET, context.partition_key, vsc_root.base_seed, vsc_root.worker_count(context.instance),
            sources=reference_sources(layout, "training_images_ref1", context.partition_key),
            assets=disc21_assets(layout), pid_range=reference_pid_range(context.partition_key),
            progress=progress_logger(context),
        )  # fmt: skip
    return partition_result(report)


@dg.asset(
    group_name=GROUP_VSC,
    partitions_def=query_videos_partitions_def,
    deps=[vsc_query_videos, vsc_reference_videos, vsc_ground_truth],
    retry_policy=RETRY,
    kinds={"jpeg", "parquet"},
)
def pair_frames(context: dg.AssetExecutionContext, vsc_root: VscRoot) -> dg.MaterializeResult:
    """The frames of every candidate pair whose query is in this partition, seeked by timestamp."""
    with input_errors_fail_fast():
        report = build_pair_frames_partition(
            vsc_root.layout(), "pair_frames", context.partition_key, vsc_root.worker_count(context.instance),
            progress=progress_logger(context, "videos"),
        )  # fmt: skip
    return dg.MaterializeResult(
        metadata={
            "candidate_pairs": dg.MetadataValue.int(report.candidates),
            "staged_pairs": dg.MetadataValue.int(report.staged),
            "skipped_rows": dg.MetadataValue.int(len(report.skipped_rows)),
            "skipped_row_list": dg.MetadataValue.md(problems_markdown(report.skipped_rows, "row")),
            **skipped_pairs_metadata(report.skipped_pairs),
            "skipped_first": skipped_first(skipped_inputs(report.skipped_rows, report.skipped_pairs), "row", "ground-truth row "),
            "seconds": dg.MetadataValue.float(round(report.seconds, 2)),
            "manifest": dg.MetadataValue.path(str(report.manifest)),
            **built_by(),
        }
    )


@dg.asset(
    group_name=GROUP_VSC,
    deps=[pair_frames],
    retry_policy=RETRY,
    check_specs=[
        dg.AssetCheckSpec("pair_files_exist", asset="positive_pairs", description="both files of every pair exist"),
        dg.AssetCheckSpec("pickles_match_folders", asset="positive_pairs", description="the pickles match the pair folders"),
    ],
    kinds={"jpeg", "parquet"},
    # Rebuilt once the pair frames of any query partition change, after all in-flight ones finish.
    automation_condition=dg.AutomationCondition.eager(),
)
def positive_pairs(context: dg.AssetExecutionContext, vsc_root: VscRoot) -> dg.MaterializeResult:
    """Numbered pairs in ground-truth order, permuted with a seeded generator, in the training layout."""
    keys = context.instance.get_dynamic_partitions(query_videos_partitions_def.name)
    with input_errors_fail_fast():
        report = build_positive_pairs(vsc_root.layout(), "pair_frames", sorted(keys), vsc_root.base_seed)
    metadata = {
        "pairs": dg.MetadataValue.int(report.pairs),
        "ground_truth_rows_used": dg.MetadataValue.int(report.rows_used),
        "skipped_rows": dg.MetadataValue.int(len(report.skipped_rows)),
        "skipped_row_list": dg.MetadataValue.md(problems_markdown(report.skipped_rows, "row")),
        "unreadable_pairs": dg.MetadataValue.int(report.unreadable_pairs),
        **skipped_pairs_metadata(report.skipped_pairs),
        "skipped_first": skipped_first(skipped_inputs(report.skipped_rows, report.skipped_pairs), "row", "ground-truth row "),
        "seconds": dg.MetadataValue.float(round(report.seconds, 2)),
        "table": dg.MetadataValue.path(str(report.table)),
        "skipped_manifest": dg.MetadataValue.path(str(report.manifest)),
    }
    return materialize_result(metadata, report.checks, report.preview, "query | reference")


vsc_source_specs = [vsc_query_videos, vsc_reference_videos, vsc_ground_truth]
vsc_assets_defs = [query_frames, reference_frames, training_images_ref1, train_v1_s3_r1_all, pair_frames, positive_pairs]
