"""The four DISC21 augmented sets (shared/SPEC.md artifacts 1 and 2)."""


import dagster as dg

from vsc_assets.build.sets import build_colour_partition, build_grey_partition
from vsc_assets.constants import BW_SUFFIX, COLOUR_SETS, GROUP_DISC21
from vsc_assets.defs.partitions import disc21_partitions_def
from vsc_assets.defs.reporting import input_errors_fail_fast, partition_result, progress_logger
from vsc_assets.defs.resources import VscRoot
from vsc_assets.platform.inputs import disc21_inputs

RETRY = dg.RetryPolicy(max_retries=2, delay=2)

disc21_training_images = dg.AssetSpec(
    "disc21_training_images",
    group_name=GROUP_DISC21,
    description="DISC21 training images under <root>/data/training_images (T000000.jpg ...).",
    kinds={"jpeg"},
)

CHECKS = (
    ("files_per_source", "20 files for every readable source of the partition"),
    ("decodable_256", "every file a decodable 256x256 JPEG of the set's mode"),
    ("names_parse", "every file name parses as {pid}_{j}.jpg"),
)


def check_specs(asset_name: str) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(name, asset=asset_name, description=text) for name, text in CHECKS]


def colour_set_asset(set_name: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=set_name,
        group_name=GROUP_DISC21,
        partitions_def=disc21_partitions_def,
        deps=[disc21_training_images],
        retry_policy=RETRY,
        check_specs=check_specs(set_name),
        kinds={"jpeg", "parquet"},
        description=f"{set_name}: per DISC21 source, its 256 px resize and 19 augmentation chains.",
    )
    def _colour(context: dg.AssetExecutionContext, vsc_root: VscRoot) -> dg.MaterializeResult:
        layout = vsc_root.layout()
        with input_errors_fail_fast():
            report = build_colour_partition(
                layout,
                set_name,
                context.partition_key,
                vsc_root.base_seed,
                vsc_root.worker_count(context.instance),
                **disc21_inputs(layout, context.partition_key),
                progress=progress_logger(context),
            )
        return partition_result(report)

    return _colour


def grey_set_asset(colour_set: str) -> dg.AssetsDefinition:
    grey_set = colour_set + BW_SUFFIX

    @dg.asset(
        name=grey_set,
        group_name=GROUP_DISC21,
        partitions_def=disc21_partitions_def,
        deps=[colour_set],
        retry_policy=RETRY,
        check_specs=check_specs(grey_set),
        kinds={"jpeg", "parquet"},
        description=f"{grey_set}: every file of {colour_set} as single-channel greyscale.",
    )
    def _grey(context: dg.AssetExecutionContext, vsc_root: VscRoot) -> dg.MaterializeResult:
        with input_errors_fail_fast():
            report = build_grey_partition(
                vsc_root.layout(),
                colour_set,
                grey_set,
                context.partition_key,
                vsc_root.worker_count(context.instance),
                progress=progress_logger(context),
            )
        return partition_result(report)

    return _grey


disc21_set_assets = [colour_set_asset(name) for name in COLOUR_SETS] + [
    grey_set_asset(name) for name in COLOUR_SETS
]
