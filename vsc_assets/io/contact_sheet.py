"""Small previews for the Dagster UI: a grid of thumbnails as PNG, embeddable in markdown."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image


def contact_sheet(paths: list[Path], thumb: int = 64, columns: int = 5) -> bytes:
    rows = max(1, -(-len(paths) // columns))
    sheet = Image.new("RGB", (columns * thumb, rows * thumb), (255, 255, 255))
    for i, path in enumerate(paths):
        with Image.open(path) as im:
            tile = im.convert("RGB").resize((thumb, thumb), Image.Resampling.BILINEAR)
        sheet.paste(tile, ((i % columns) * thumb, (i // columns) * thumb))
    buf = io.BytesIO()
    sheet.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def markdown_image(png: bytes, alt: str) -> str:
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
