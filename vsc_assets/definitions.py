"""The one Definitions object: every asset, check and resource of the platform."""

import dagster as dg

from vsc_assets.defs.disc21 import disc21_set_assets, disc21_training_images
from vsc_assets.defs.resources import VscRoot
from vsc_assets.defs.sensors import data_change_sensor
from vsc_assets.defs.vsc import positive_pairs, vsc_assets_defs, vsc_source_specs

automation_sensor = dg.AutomationConditionSensorDefinition(
    "pair_table_automation",
    target=dg.AssetSelection.assets(positive_pairs),
    default_status=dg.DefaultSensorStatus.RUNNING,
)

defs = dg.Definitions(
    assets=[disc21_training_images, *disc21_set_assets, *vsc_source_specs, *vsc_assets_defs],
    sensors=[data_change_sensor, automation_sensor],
    resources={"vsc_root": VscRoot()},
)
