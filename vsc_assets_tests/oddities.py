"""Odd-but-valid and broken image files, made on the fly."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from vsc_assets.demo.images import demo_image


def _png_with_claimed_size(path: Path, width: int, height: int) -> None:
    """A tiny PNG whose header claims width x height (a decompression bomb's calling card)."""
    Image.new("L", (8, 8)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17])) & 0xFFFFFFFF
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    path.write_bytes(bytes(data))


def write_odd_valid(folder: Path) -> dict[str, str]:
    """name -> what is odd about it; every one of them must be processed."""
    folder.mkdir(parents=True, exist_ok=True)
    photo = demo_image(11).convert("RGB")
    photo.convert("CMYK").save(folder / "T000010.jpg", quality=90)
    photo.convert("P", palette=Image.Palette.ADAPTIVE).save(folder / "T000020.png")
    rgba = photo.convert("RGBA")
    rgba.putalpha(128)
    rgba.save(folder / "T000030.png")
    deep = (np.asarray(photo.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    Image.fromarray(deep).save(folder / "T000040.png")  # 16-bit greyscale
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    photo.resize((300, 200)).save(folder / "T000050.jpg", exif=exif.tobytes(), quality=90)
    Image.new("RGB", (1, 1), (200, 10, 10)).save(folder / "T000060.jpg")
    return {
        "T000010.jpg": "CMYK",
        "T000020.png": "palette",
        "T000030.png": "RGBA",
        "T000040.png": "16-bit",
        "T000050.jpg": "EXIF-rotated",
        "T000060.jpg": "1x1",
    }


def write_huge_jpeg(path: Path, size=(12000, 9000)) -> None:
    small = demo_image(12).convert("RGB").resize((size[0] // 20, size[1] // 20))
    small.resize(size, Image.Resampling.NEAREST).save(path, quality=70)


def write_broken(folder: Path) -> dict[str, str]:
    """name -> a phrase the reported reason must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    good = folder / "_good.jpg"
    demo_image(13).save(good, quality=90)
    data = good.read_bytes()
    good.unlink()
    (folder / "T000080.jpg").write_bytes(data[: len(data) // 2])
    (folder / "T000090.jpg").write_bytes(b"")
    (folder / "T000100.jpg").write_text("this is not an image\n")
    _png_with_claimed_size(folder / "T000110.png", 30000, 30000)
    return {
        "T000080.jpg": "truncated",
        "T000090.jpg": "empty file",
        "T000100.jpg": "not a recognised image",
        "T000110.png": "decompression bomb",
    }
