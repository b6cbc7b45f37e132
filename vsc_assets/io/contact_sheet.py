"""Previews: a grid of captioned thumbnails as JPEG, kept as a file and shown smaller in the Dagster UI.

Every materialization event is stored in the instance's database and loaded by
the asset's page; the real data makes thousands of them. So the event embeds a
small sheet (the first tiles, smaller, at a lower quality: about 25 KB), and
names the file that holds the full one.
"""

from __future__ import annotations

import base64
import io
import textwrap
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from vsc_assets.io.atomic import write_bytes_atomic

THUMB = 144
CAPTION_LINES = 4
CAPTION_FONT_PX = 11
FULL_QUALITY = 85
INLINE_TILES, INLINE_THUMB, INLINE_QUALITY = 10, 96, 55  # the event's sheet: measured in docs/real-scale.md


@dataclass(frozen=True)
class Preview:
    inline: bytes  # the small sheet the materialization event carries
    file: Path  # the full sheet


def write_preview(path: Path, paths: list[Path], captions: list[str], columns: int = 5) -> Preview:
    """The full sheet written to ``path`` (whole or not at all), and the small one for the event."""
    write_bytes_atomic(path, contact_sheet(paths, captions, columns=columns), make_parents=True)
    inline = contact_sheet(paths[:INLINE_TILES], captions[:INLINE_TILES], INLINE_THUMB, columns, INLINE_QUALITY)
    return Preview(inline, path)


def contact_sheet(
    paths: list[Path], captions: list[str] | None = None, thumb: int = THUMB, columns: int = 5, quality: int = FULL_QUALITY
) -> bytes:
    """Thumbnails ``thumb`` px a side, ``columns`` a row, each with its caption beneath (wrapped).

    JPEG, progressive and with optimised tables: the small one travels base64 inside an event.
    """
    font = ImageFont.load_default(CAPTION_FONT_PX)
    line_h = CAPTION_FONT_PX + 3
    caption_h = CAPTION_LINES * line_h + 4 if captions else 0
    cell_h = thumb + caption_h
    rows = max(1, -(-len(paths) // columns))
    sheet = Image.new("RGB", (columns * thumb, rows * cell_h), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    chars = max(8, thumb // 7)
    for i, path in enumerate(paths):
        x, y = (i % columns) * thumb, (i // columns) * cell_h
        with Image.open(path) as im:
            sheet.paste(im.convert("RGB").resize((thumb, thumb), Image.Resampling.BILINEAR), (x, y))
        if captions:
            lines = textwrap.wrap(captions[i], chars, break_on_hyphens=False, max_lines=CAPTION_LINES, placeholder=" …")
            for n, line in enumerate(lines):
                draw.text((x + 3, y + thumb + 2 + n * line_h), line, fill=(20, 20, 20), font=font)
    buf = io.BytesIO()
    sheet.save(buf, format="JPEG", quality=quality, optimize=True, progressive=True)
    return buf.getvalue()


def markdown_image(jpeg: bytes, alt: str) -> str:
    return f"![{alt}](data:image/jpeg;base64,{base64.b64encode(jpeg).decode('ascii')})"
