"""Decoding any source safely into an RGB image at its own resolution, and JPEG encoding.

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

from vsc_assets.constants import JPEG_QUALITY, MAX_CHAIN_PIXELS, MAX_SOURCE_PIXELS, MIN_SOURCE_SIDE

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


def _reduction_within(width: int, height: int, max_pixels: int) -> int:
    """The smallest of 1, 2, 4, 8 that brings width x height within ``max_pixels``."""
    for factor in (1, 2, 4, 8):
        if math.ceil(width / factor) * math.ceil(height / factor) <= max_pixels:
            return factor
    return 8


def load_rgb(
    path: str | os.PathLike,
    min_side: int = MIN_SOURCE_SIDE,
    max_pixels: int = MAX_SOURCE_PIXELS,
    max_chain_pixels: int = MAX_CHAIN_PIXELS,
    at_least: int | None = None,
) -> tuple[Image.Image, dict]:
    """Decode ``path`` at its full resolution into an RGB image, as the recipe opens it.

    Two bounds, both recorded: a source with a side under ``min_side`` is
    upscaled (bicubic) so every family has pixels to crop, rotate and inset; a
    source over ``max_chain_pixels`` is decoded at 1/2, 1/4 or 1/8 scale (a
    JPEG in the DCT domain, anything else by box reduction), which bounds a
    worker's memory. ``at_least``: a JPEG may be decoded in the DCT domain at the smallest
    scale that keeps both sides at least that many pixels (for an image used only that small).
    Returns the image and facts for the record.
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
                factor = _reduction_within(width, height, max_chain_pixels)
                if factor > 1 and im.format == "JPEG":
                    im.draft(im.mode, (math.ceil(width / factor), math.ceil(height / factor)))
                elif at_least and im.format == "JPEG":
                    im.draft(im.mode, (at_least, at_least))
                im.load()
                im = ImageOps.exif_transpose(im)
                im = _to_8bit_rgb(im)
                if factor > 1 and max(im.width, im.height) > math.ceil(max(width, height) / factor):
                    im = im.reduce(factor)
    except BadImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise BadImageError(path, f"decompression bomb guard: {exc}") from None
    except Image.UnidentifiedImageError:
        raise BadImageError(path, "not a recognised image format") from None
    except (OSError, ValueError, SyntaxError, struct.error) as exc:
        raise BadImageError(path, f"cannot decode ({type(exc).__name__}: {exc})") from None
    info = {"source_size": [width, height], "source_mode": mode}
    if factor > 1:
        info["decoded_at"] = f"1/{factor}"
    if min(im.size) < min_side:
        im = im.resize((max(im.width, min_side), max(im.height, min_side)), Image.Resampling.BICUBIC)
        info["upscaled_to"] = list(im.size)
    return im, info


def decoded_size(path: str | os.PathLike) -> tuple[int, int] | None:
    """The size ``load_rgb(path)`` gives, from the header alone (EXIF rotation, the reduction of
    a huge image, the upscaling of a tiny one); None when the header can't be read."""
    try:
        with Image.open(path) as im:
            width, height = im.size
            orientation = im.getexif().get(0x0112, 1)
    except (OSError, ValueError, SyntaxError, struct.error):
        return None
    factor = _reduction_within(width, height, MAX_CHAIN_PIXELS)
    width, height = math.ceil(width / factor), math.ceil(height / factor)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    if min(width, height) < MIN_SOURCE_SIDE:
        width, height = max(width, MIN_SOURCE_SIDE), max(height, MIN_SOURCE_SIDE)
    return width, height


def jpeg_problem(path: Path, size: tuple[int, int] | None = None, mode: str | None = None) -> str | None:
    """Why a file is not a fully decodable JPEG (of ``size`` and ``mode`` when given); None if it is.

    Decoding at 1/8 scale still reads every DCT block, so truncation is caught cheaply.
    """
    try:
        with Image.open(path) as im:
            if im.format != "JPEG" or (size and im.size != size) or (mode and im.mode != mode):
                return f"{im.format} {im.size} {im.mode}"
            im.draft(im.mode, (max(1, im.width // 8), max(1, im.height // 8)))
            im.load()
    except (OSError, ValueError) as exc:
        return str(exc)
    return None


JPEG_END = b"\xff\xd9"


def verified_size(path: Path, size: tuple[int, int] | None = None, mode: str | None = None) -> int | None:
    """The file's size if it decodes in full (read back from disk), else None; what
    ``unchanged_since_verified`` later compares against."""
    return path.stat().st_size if jpeg_problem(path, size, mode) is None else None


def unchanged_since_verified(path: Path, verified_size: int) -> bool:
    """A file fully decoded before still has that size and ends in the JPEG end marker: one stat and a 2-byte read."""
    try:
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size != verified_size or verified_size < 2:
                return False
            fh.seek(-2, os.SEEK_END)
            return fh.read(2) == JPEG_END
    except OSError:
        return False


def jpeg_problems(
    folder: Path,
    names: list[str],
    size: tuple[int, int] | None = None,
    mode: str | None = None,
    verified: dict[str, int] | None = None,
) -> list[str]:
    """``name: reason`` for each named file that is not a fully decodable JPEG.

    ``verified`` maps names already fully decoded (by the worker that wrote them, read
    back from disk) to their size then: those are only checked to be unchanged.
    Missing files are not listed: counting files is another check's job.
    """
    problems = []
    verified = verified or {}
    for name in names:
        path = folder / name
        if name in verified and unchanged_since_verified(path, verified[name]):
            continue
        if not path.exists():
            continue
        if (reason := jpeg_problem(path, size, mode)) is not None:
            problems.append(f"{name}: {reason}")
    return problems


def encode_jpeg(im: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    """Pixels only: Pillow would also write the comment an image inherited from the file it was
    decoded from (a source's, or a pool image's), so a file's bytes would depend on how it was made."""
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality, comment=b"")
    return buf.getvalue()
