"""Numbers fixed by the recipe (docs/recipe.md); one place to read them. Artifact names are
declared with the artifacts, in ``catalog/artifacts.py``."""

VARIANTS_PER_SOURCE = 20  # {pid}_0 (plain resize) + 19 augmentation chains
OUTPUT_SIZE = 256
JPEG_QUALITY = 100
SOURCE_STRIDE = 10  # every 10th DISC21 image is a source; pid = i // 10

# A source with a side under this is upscaled (bicubic, recorded as
# ``upscaled_to``) so that every family has pixels to crop, rotate and inset.
# Every other source is processed at its own resolution, as the recipe does.
MIN_SOURCE_SIDE = 32
# A source over this many pixels (3264x2448) is decoded at 1/2, 1/4 or 1/8
# scale, recorded as ``decoded_at``: a chain's intermediates (a float copy for
# noise, an expanded canvas for rotate) are several times the image, and this
# keeps a worker under 500 MB. The recipe's own photos are far smaller.
MAX_CHAIN_PIXELS = 8_000_000
# Sources above this many pixels are refused as decompression bombs.
MAX_SOURCE_PIXELS = 150_000_000

DEFAULT_BASE_SEED = 20230401
DEFAULT_SOURCES_PER_PARTITION = 500

# The first VSC reference id: pid = id number - REFERENCE_ID_BASE.
REFERENCE_ID_BASE = 100000
DEFAULT_VIDEOS_PER_PARTITION = 200
