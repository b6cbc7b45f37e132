"""Faster primitives for the production path's kernels (OpenCV, libvips), one thread each.

The platform's parallelism is its worker processes, one per core, so neither
library may start threads of its own. What each kernel built on these may
differ from the recipe as written is measured, family by family, by
``vsc-assets bench --kernels`` and, in distribution, by ``--fidelity``
(docs/benchmarks.md).
"""

from __future__ import annotations

import cv2
import numpy as np
import pyvips
from PIL import Image

from vsc_assets.augment.bands import row_bands
from vsc_assets.constants import OUTPUT_SIZE

cv2.setNumThreads(1)
pyvips.cache_set_max(0)
pyvips.concurrency_set(1)

SQUARE = (OUTPUT_SIZE, OUTPUT_SIZE)


def array(img: Image.Image) -> np.ndarray:
    """An RGB image as a contiguous H x W x 3 uint8 array."""
    return np.ascontiguousarray(np.asarray(img))


def image(arr: np.ndarray) -> Image.Image:
    return Image.fromarray(arr)


# libvips shrinks faster than Pillow from about this many pixels up; below, Pillow is faster.
VIPS_FROM_PIXELS = 300_000


def resize_cubic(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A bicubic shrink by libvips: a cubic kernel over the whole footprint, as Pillow's."""
    arr = array(img)
    vips = pyvips.Image.new_from_memory(arr.data, img.width, img.height, 3, "uchar")
    out = vips.resize(size[0] / img.width, vscale=size[1] / img.height, kernel="cubic")
    if (out.width, out.height) != size:  # libvips rounds the scaled size itself
        return img.resize(size, Image.Resampling.BICUBIC)
    return Image.frombuffer("RGB", size, out.write_to_memory(), "raw", "RGB", 0, 1)


def resize(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A bicubic resize: a large image shrunk by libvips, an image grown by OpenCV's cubic
    interpolation, anything else by Pillow as the recipe does."""
    if img.size == size:
        return img
    if img.width >= size[0] and img.height >= size[1]:
        if img.width * img.height >= VIPS_FROM_PIXELS:
            return resize_cubic(img, size)
        return img.resize(size, Image.Resampling.BICUBIC)
    if img.width <= size[0] and img.height <= size[1]:
        return image(cv2.resize(array(img), size, interpolation=cv2.INTER_CUBIC))
    return img.resize(size, Image.Resampling.BICUBIC)


def square(img: Image.Image) -> Image.Image:
    """The families' own resize to 256x256."""
    return resize(img, SQUARE)


def box_blur(img: Image.Image, radius: float, passes: int = 3) -> Image.Image:
    """Pillow's GaussianBlur (``passes`` box blurs of a fractional radius, each way, each pass
    rounded to 8 bits) as OpenCV filters; rounding may differ by a level a pass."""
    sigma2 = radius * radius / passes
    length = np.sqrt(12.0 * sigma2 + 1.0)
    whole = np.floor((length - 1.0) / 2.0)
    fraction = (2 * whole + 1) * (whole * (whole + 1) - 3 * sigma2) / (6 * (sigma2 - (whole + 1) ** 2))
    box = float(whole + fraction)
    inner = int(box)
    weight = 1.0 / (box * 2 + 1)
    edge = (1.0 - (inner * 2 + 1) * weight) / 2
    kernel = np.full(inner * 2 + 3, weight, np.float32)
    kernel[0] = kernel[-1] = edge
    arr = array(img)
    for shape in ((1, -1), (-1, 1)):
        for _ in range(passes):
            arr = cv2.filter2D(arr, -1, kernel.reshape(shape), borderType=cv2.BORDER_REPLICATE)
    return image(arr)


SMOOTH = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]], np.float32) / 13  # Pillow's ImageFilter.SMOOTH


def sharpen(img: Image.Image, factor: float) -> Image.Image:
    """Pillow's ImageEnhance.Sharpness: the image extrapolated away from its SMOOTH-filtered self
    (whose outermost pixels are the image's own), by OpenCV and NumPy, a band of rows at a time."""
    arr = array(img)
    smooth = cv2.filter2D(arr, -1, SMOOTH, borderType=cv2.BORDER_REPLICATE)
    smooth[0], smooth[-1], smooth[:, 0], smooth[:, -1] = arr[0], arr[-1], arr[:, 0], arr[:, -1]
    out = np.empty_like(arr)
    for rows in row_bands(arr.shape[0], arr[0].size):
        band = np.subtract(arr[rows], smooth[rows], dtype=np.float32)  # the same float32 values, one pass
        band *= np.float32(factor)
        band += smooth[rows]
        np.clip(band, 0, 255, out=band)
        out[rows] = band
    return image(out)


def hue_shift(img: Image.Image, shift: int) -> Image.Image:
    """Pillow's RGB to HSV (hue over 0-255), hue moved by ``shift`` modulo 256, and back to RGB by
    OpenCV, whose HSV to RGB differs from Pillow's on 288 of the 2^24 colours, by one level."""
    hsv = np.array(img.convert("HSV"))
    hsv[..., 0] += np.uint8(shift % 256)  # uint8 addition wraps: modulo 256 in place
    return image(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB_FULL))
