"""Decoding any source safely into a bounded RGB working image, and JPEG encoding.

Bad files raise ``BadImageError`` naming the file and the reason; odd but valid
files (CMYK, palette, alpha, 16-bit, EXIF-rotated, tiny, huge) are normalised.
"""

from __future__ import annotations

import io
import math
import os
import struct
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from vsc_assets.constants import (
    JPEG_QUALITY,
    MAX_SOURCE_PIXELS,
    MAX_WORKING_PIXELS,
    MAX_WORKING_SIDE,
    MIN_WORKING_SIDE,
)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})


class BadImageError(Exception):
    """A file that cannot be used as an image; ``str()`` names file and reason."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files directly in ``folder``, sorted by name (the recipe's order)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(
        (p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
        key=lambda p: p.name,
    )


def _to_8bit_rgb(im: Image.Image) -> Image.Image:
    if im.mode == "RGB":
        return im
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(im).astype(np.float64)
        top = 65535.0 if im.mode.startswith("I;16") or arr.max() > 255 else 255.0
        arr = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(arr, "L").convert("RGB")
    if im.mode in ("P", "PA", "LA", "La", "RGBa") or "transparency" in im.info:
        im = im.convert("RGBA")
    return im.convert("RGB")


def working_scale(width: int, height: int, max_side: int, max_pixels: int) -> float:
    return min(1.0, max_side / max(width, height), math.sqrt(max_pixels / (width * height)))


def working_size(
    width: int, height: int, max_side: int, min_side: int, max_pixels: int = MAX_WORKING_PIXELS
) -> tuple[int, int]:
    scale = working_scale(width, height, max_side, max_pixels)
    w = max(1, round(width * scale))
    h = max(1, round(height * scale))
    return max(w, min_side), max(h, min_side)


def load_rgb(
    path: str | os.PathLike,
    max_side: int = MAX_WORKING_SIDE,
    min_side: int = MIN_WORKING_SIDE,
    max_pixels: int = MAX_SOURCE_PIXELS,
    max_working_pixels: int = MAX_WORKING_PIXELS,
) -> tuple[Image.Image, dict]:
    """Decode ``path`` into an RGB image whose sides lie in [min_side, max_side].

    Returns the image and facts for the record (original size and mode).
    """
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise BadImageError(path, "empty file (0 bytes)")
        with warnings.catch_warnings():
            # Our own limit below replaces Pillow's warning threshold.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                width, height = im.size
                if width * height > max_pixels:
                    raise BadImageError(
                        path, f"decompression bomb guard: {width}x{height} exceeds {max_pixels} pixels"
                    )
                mode = im.mode
                scale = working_scale(width, height, max_side, max_working_pixels)
                if im.format == "JPEG" and scale < 1.0:
                    im.draft(im.mode, (math.ceil(width * scale), math.ceil(height * scale)))
                im.load()
                im = ImageOps.exif_transpose(im)
                im = _to_8bit_rgb(im)
    except BadImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise BadImageError(path, f"decompression bomb guard: {exc}") from None
    except Image.UnidentifiedImageError:
        raise BadImageError(path, "not a recognised image format") from None
    except (OSError, ValueError, SyntaxError, struct.error) as exc:
        raise BadImageError(path, f"cannot decode ({type(exc).__name__}: {exc})") from None
    target = working_size(im.width, im.height, max_side, min_side, max_working_pixels)
    if target != im.size:
        im = im.resize(target, Image.Resampling.BICUBIC, reducing_gap=3.0)
    # Pixel-unit parameters shrink with the image, never grow (a 1x1 source is upscaled).
    pixel_scale = min(1.0, math.sqrt(im.width * im.height / (width * height)))
    return im, {
        "source_size": [width, height],
        "source_mode": mode,
        "working_size": list(im.size),
        "pixel_scale": pixel_scale,
    }


def jpeg_problems(folder: Path, names: list[str], size: tuple[int, int] | None = None, mode: str | None = None) -> list[str]:
    """Why each named file is not a fully decodable JPEG (of ``size`` and ``mode`` when given).

    Decoding at 1/8 scale still reads every DCT block, so truncation is caught cheaply.
    Missing files are not listed: counting files is another check's job.
    """
    problems = []
    for name in names:
        path = folder / name
        if not path.exists():
            continue
        try:
            with Image.open(path) as im:
                if im.format != "JPEG" or (size and im.size != size) or (mode and im.mode != mode):
                    problems.append(f"{name}: {im.format} {im.size} {im.mode}")
                    continue
                im.draft(im.mode, (max(1, im.width // 8), max(1, im.height // 8)))
                im.load()
        except (OSError, ValueError) as exc:
            problems.append(f"{name}: {exc}")
    return problems


def encode_jpeg(im: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
