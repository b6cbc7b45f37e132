"""Previews for the Dagster UI: a grid of captioned thumbnails as JPEG, embeddable in markdown."""

from __future__ import annotations

import base64
import io
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

THUMB = 144
CAPTION_LINES = 4
CAPTION_FONT_PX = 11


def contact_sheet(
    paths: list[Path], captions: list[str] | None = None, thumb: int = THUMB, columns: int = 5
) -> bytes:
    """Thumbnails ``thumb`` px a side, ``columns`` a row, each with its caption beneath (wrapped).

    JPEG: the sheet travels base64 inside the materialization's metadata.
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
    sheet.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def markdown_image(jpeg: bytes, alt: str) -> str:
    return f"![{alt}](data:image/jpeg;base64,{base64.b64encode(jpeg).decode('ascii')})"
