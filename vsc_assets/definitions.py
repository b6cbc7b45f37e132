"""The one Definitions object: every asset, check and resource of the platform."""

import dagster as dg

from vsc_assets.defs.disc21 import disc21_set_assets, disc21_training_images
from vsc_assets.defs.resources import VscRoot

defs = dg.Definitions(
    assets=[disc21_training_images, *disc21_set_assets],
    resources={"vsc_root": VscRoot()},
)
