"""The 24 augmentation families of the recipe, in its order (docs/recipe.md).

The order is part of the recipe's draws: a chain picks families by their index
here, so a family is added at the end, and never moved.
"""

from vsc_assets.augment.families.base import PER_IMAGE, PUBLISHED, RANDOMNESS, SQUARE, ChainContext, Family
from vsc_assets.augment.families.captions import MEME_FORMAT, OVERLAY_TEXT
from vsc_assets.augment.families.colour import CHANGE_CHANNEL, COLOR_JITTER, GRAYSCALE
from vsc_assets.augment.families.degrade import (
    BLUR,
    ENCODING_QUALITY,
    NOISE,
    PIXELIZATION,
    SHARPEN,
    SHUFFLE_PIXELS,
)
from vsc_assets.augment.families.geometry import (
    HFLIP,
    PAD,
    PAD_SQUARE,
    PERSPECTIVE,
    RESIZED_CROP,
    ROTATE,
    SKEW,
    VFLIP,
)
from vsc_assets.augment.families.overlays import (
    IMAGE_OPAQUE,
    OVERLAY_EMOJI,
    OVERLAY_ONTO_IMAGE,
    OVERLAY_STRIPES,
    STACK,
)

REGISTRY: tuple[Family, ...] = (
    CHANGE_CHANNEL,  # 1
    PAD_SQUARE,
    RESIZED_CROP,
    ROTATE,
    IMAGE_OPAQUE,  # 5
    GRAYSCALE,
    COLOR_JITTER,
    BLUR,
    PIXELIZATION,
    PAD,  # 10
    NOISE,
    VFLIP,
    HFLIP,
    ENCODING_QUALITY,
    OVERLAY_STRIPES,  # 15
    SHARPEN,
    SKEW,
    SHUFFLE_PIXELS,
    MEME_FORMAT,
    OVERLAY_EMOJI,  # 20
    OVERLAY_TEXT,
    PERSPECTIVE,
    OVERLAY_ONTO_IMAGE,
    STACK,  # 24
)
FAMILIES: dict[str, Family] = {family.name: family for family in REGISTRY}
FAMILY_NAMES: tuple[str, ...] = tuple(FAMILIES)

__all__ = ["FAMILIES", "FAMILY_NAMES", "PER_IMAGE", "PUBLISHED", "RANDOMNESS", "REGISTRY", "SQUARE", "ChainContext", "Family"]
