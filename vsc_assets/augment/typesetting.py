"""Measuring and drawing text the way the published environment did (meme_format, overlay_text).

AugLy 1.0.0's meme_format measures text with Pillow 9's ``getsize_multiline``,
gone in Pillow 10; its overlay_text turns a fractional font size into pixels
that can reach 0, which current Pillow refuses. Both are drawn here, with the
published measures and a recorded fallback wherever the published call fails.
"""

from __future__ import annotations

import unicodedata

from PIL import Image, ImageDraw

from vsc_assets.augment.materials import font_characters, load_font


def meme_text_size(font, text: str) -> tuple[int, int]:
    """What Pillow 9's ``getsize_multiline`` measured for one line of text.

    Width: the right edge of the line. Height: the bottom of the letter "A" in
    that font, whatever the text (its line spacing for a single line).
    """
    return font.getbbox(text)[2], font.getbbox("A")[3]


def meme_font_size(font_path: str, text: str, max_w: int, max_h: int, start: int) -> int | None:
    """AugLy's rule: the first of start, start-5, start-10, ... at which the text fits.

    The text's extent grows with the font size, so the walk down may begin from
    an estimate instead of from ``start``; the answer is confirmed by stepping
    up while the next larger size (of the same sequence) still fits, so it is
    the one the plain walk finds. None when no positive size fits.
    """

    def fits(size: int) -> bool:
        w, h = meme_text_size(load_font(font_path, size), text)
        return w <= max_w and h <= max_h

    if start <= 0:
        return None
    if fits(start):
        return start
    w, h = meme_text_size(load_font(font_path, start), text)
    estimate = start * min(max_w / max(w, 1), max_h / max(h, 1))
    size = start - 5 * max(1, int((start - estimate) / 5))
    while size > 0 and not fits(size):
        size -= 5
    if size <= 0:
        return None
    while size + 5 < start and fits(size + 5):
        size += 5
    return size


def _meme_font(p, ctx) -> str:
    font_path = ctx.materials.font_path(p["font"])
    try:
        load_font(str(font_path), 10)
        return str(font_path)
    except OSError as exc:
        ctx.fallback("meme_format", f"font cannot be read ({exc}), AugLy's default used", font=p["font"])
        return str(ctx.materials.meme_default_font)


def draw_meme(img: Image.Image, p, ctx) -> Image.Image:
    """AugLy's meme_format: a caption band of ``caption_height`` px above the image, text centred.

    With ``scale`` in ``p`` (the image is the recipe's reduced by that factor), the font size is
    the one the recipe picks at full size, and the band and the text are drawn that much smaller.
    """
    width, height = img.size
    caption, scale = p["caption_height"], p.get("scale", 1)
    font_path = _meme_font(p, ctx)
    size = meme_font_size(font_path, p["text"], width * scale - 10, caption - 10, caption - 10)
    if size is None:
        size = 1
        ctx.fallback("meme_format", "caption text fits at no font size, smallest size used", font_size=1)
    if scale > 1:
        caption, size = max(1, round(caption / scale)), max(1, round(size / scale))
    font = load_font(font_path, size)
    text_w, text_h = meme_text_size(font, p["text"])
    meme = Image.new("RGB", (width, height + caption), tuple(p["meme_bg_color"]))
    meme.paste(img, (0, caption))
    colour = tuple(p["text_color"]) + (round(p["opacity"] * 255),)
    ImageDraw.Draw(meme).multiline_text(
        (round((width - text_w) / 2), round((caption - text_h) / 2)),
        p["text"],
        font=font,
        fill=colour,
        align="center",
    )
    return meme


def _overlay_text_string(p, font_path: str, ctx) -> str:
    chars = font_characters(font_path)
    text = "".join(chr(chars[c % len(chars)]) for c in p["text"])
    # Some bundled character lists hold control characters (U+000D in the
    # OstrichSans and PlayfairDisplay lists); a text of only those makes
    # libraqm's layout fail. They draw nothing, so they are dropped.
    printable = "".join(ch for ch in text if unicodedata.category(ch) != "Cc")
    if printable != text:
        ctx.fallback("overlay_text", "control characters dropped from the text", dropped=len(text) - len(printable))
    return printable


def _overlay_text_pixels(img, p, text: str, font_path: str, size_px: int) -> Image.Image:
    # AugLy's overlay_text, with the font size in pixels instead of a fraction
    # (its int(min(w, h) * font_size) reaches 0, which current Pillow refuses).
    out = img.convert("RGBA")
    ImageDraw.Draw(out).text(
        (p["x_pos"] * img.width, p["y_pos"] * img.height),
        text,
        fill=tuple(p["color"]) + (round(p["opacity"] * 255),),
        font=load_font(font_path, size_px),
    )
    return out.convert("RGB")


def draw_overlay_text(img: Image.Image, p, ctx) -> Image.Image:
    """AugLy's overlay_text: characters of the font's own list, at a fraction of the shorter side."""
    font_path = str(ctx.materials.font_path(p["font"]))
    try:
        load_font(font_path, 10)
    except OSError as exc:
        ctx.fallback("overlay_text", f"font cannot be read ({exc}), text not drawn", font=p["font"])
        return img
    text = _overlay_text_string(p, font_path, ctx)
    if not text:
        return img
    size_px = int(min(img.size) * p["font_size"])
    if size_px < 1:
        ctx.fallback("overlay_text", "font size below one pixel, raised to 1 px", font_size_px=1)
        size_px = 1
    while True:
        try:
            return _overlay_text_pixels(img, p, text, font_path, size_px)
        except OSError as exc:
            # FreeType's "raster overflow" for glyphs too large for its rasteriser.
            if size_px <= 1:
                ctx.fallback("overlay_text", f"text cannot be rendered ({exc}), skipped")
                return img
            size_px //= 2
            ctx.fallback("overlay_text", f"{exc}; font size halved", font_size_px=size_px)
