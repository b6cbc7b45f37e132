"""The one Definitions object: every asset, check and resource of the platform."""

import dagster as dg

from vsc_assets.defs.disc21 import disc21_set_assets, disc21_training_images
from vsc_assets.defs.resources import VscRoot
from vsc_assets.defs.vsc import vsc_assets_defs, vsc_source_specs

defs = dg.Definitions(
    assets=[disc21_training_images, *disc21_set_assets, *vsc_source_specs, *vsc_assets_defs],
    resources={"vsc_root": VscRoot()},
)
