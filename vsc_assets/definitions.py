"""The one Definitions object: every asset, check and resource of the platform."""

import dagster as dg

from vsc_assets.defs.cluster import cluster_jobs
from vsc_assets.defs.disc21 import disc21_set_assets, disc21_training_images
from vsc_assets.defs.resources import VscRoot
from vsc_assets.defs.sensors import data_change_sensor
from vsc_assets.defs.vsc import positive_pairs, vsc_assets_defs, vsc_source_specs

automation_sensor = dg.AutomationConditionSensorDefinition(
    "pair_table_automation",
    target=dg.AssetSelection.assets(positive_pairs),
    default_status=dg.DefaultSensorStatus.RUNNING,
)

# One job per partitions definition: what a backfill of "everything for these keys" runs.
disc21_job = dg.define_asset_job("disc21_sets", selection=dg.AssetSelection.assets(*disc21_set_assets))
reference_job = dg.define_asset_job(
    "reference_videos_job", selection=dg.AssetSelection.assets("reference_frames", "training_images_ref1", "train_v1_s3_r1_all")
)
query_job = dg.define_asset_job("query_videos_job", selection=dg.AssetSelection.assets("query_frames", "pair_frames"))

defs = dg.Definitions(
    assets=[disc21_training_images, *disc21_set_assets, *vsc_source_specs, *vsc_assets_defs],
    jobs=[disc21_job, reference_job, query_job, *cluster_jobs([disc21_job, reference_job, query_job])],
    sensors=[data_change_sensor, automation_sensor],
    resources={"vsc_root": VscRoot()},
    # Steps of a run go one after another; the parallelism is the worker processes
    # inside each step and the runs in flight, which together match the cores.
    executor=dg.in_process_executor,
)
