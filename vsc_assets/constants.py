"""Numbers and names fixed by the recipe (shared/SPEC.md); one place to read them."""

VARIANTS_PER_SOURCE = 20  # {pid}_0 (plain resize) + 19 augmentation chains
OUTPUT_SIZE = 256
JPEG_QUALITY = 100
SOURCE_STRIDE = 10  # every 10th DISC21 image is a source; pid = i // 10

# The chain works on at most twice the output's pixels (e.g. 418x313 for 4:3)
# and at most 512 px a side. Every output is 256x256, so a chain on a 2000 px
# photo spends its time on pixels the final resize throws away; this bound
# costs detail only on the recipe's tightest crops (30% of the area: 0.6 of the
# output's pixels, upsampled 1.3x). JPEG sources are decoded straight to about
# this scale (DCT draft). Parameters measured in pixels (blur radius, channel
# shift, caption height, perspective sigma) are scaled by the same factor,
# recorded as pixel_scale, so their effect matches the full-size recipe.
MAX_WORKING_SIDE = 512
MAX_WORKING_PIXELS = 2 * 256 * 256
# Smallest side the chain works at: a 1x1 source is upscaled so that every
# family has pixels to crop, rotate and inset (recorded in the file's record).
MIN_WORKING_SIDE = 32
# Sources above this many pixels are refused as decompression bombs.
MAX_SOURCE_PIXELS = 150_000_000

S27 = "train_v1_s27_all"
S3 = "train_v1_s3_all"
COLOUR_SETS = (S27, S3)
BW_SUFFIX = "_bw"
DISC21_SETS = (S27, S3, S27 + BW_SUFFIX, S3 + BW_SUFFIX)

DEFAULT_BASE_SEED = 20230401
DEFAULT_SOURCES_PER_PARTITION = 500

GROUP_DISC21 = "disc21"
GROUP_VSC = "vsc"

REFERENCE_SET = "train_v1_s3_r1_all"
# The first VSC reference id: pid = id number - REFERENCE_ID_BASE.
REFERENCE_ID_BASE = 100000
DEFAULT_VIDEOS_PER_PARTITION = 200
