"""The 24 augmentation families of the recipe (shared/SPEC.md).

Each family is a pair side by side: ``sample_<name>(rng, ctx) -> params`` draws
every random number the family needs (JSON-safe), and
``apply_<name>(img, params, ctx) -> img`` is deterministic given them. AugLy's
functional API is called wherever it works on current Pillow/NumPy; meme_format
and perspective_transform are provided here because AugLy 1.0.0 breaks on them.

Every apply is the recipe as written (SPEC.md section 1): it works at the
resolution of the image it receives, and parameters given in pixels are pixels
of that image. Nothing here rescales; the production path (``resolution.py``)
decides only which image a chain starts from.

A family never raises on anything its sampler can draw. Where an input makes
the published call fail, a deterministic fallback applies and is noted through
``ctx.fallback`` so it ends up in the file's record.
"""

from __future__ import annotations

import math
import string
import unicodedata
from dataclasses import dataclass, field
from typing import Callable

import augly.image.functional as F
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance

from vsc_assets.augment.assets_pool import (
    AugmentAssets,
    font_characters,
    load_emoji,
    load_font,
    load_pool_image,
)
from vsc_assets.constants import OUTPUT_SIZE

SQUARE = (OUTPUT_SIZE, OUTPUT_SIZE)
LETTERS = string.ascii_lowercase + string.ascii_uppercase


@dataclass
class ChainContext:
    """What families may read (assets, recipe choices) and where fallbacks go."""

    assets: AugmentAssets
    meme_random_font: bool = False  # s3 draws the meme font; s27 keeps AugLy's default
    fallbacks: list = field(default_factory=list)

    def fallback(self, family: str, reason: str, **detail) -> None:
        self.fallbacks.append({"family": family, "reason": reason, **detail})


# ---------------------------------------------------------------- helpers


def _u(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def _r(rng: np.random.Generator, low: int, high: int) -> int:
    """Uniform integer with both ends included."""
    return int(rng.integers(low, high + 1))


def _colour(rng: np.random.Generator) -> list[int]:
    return [int(c) for c in rng.integers(0, 256, size=3)]


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def _pick(rng: np.random.Generator, items) -> int:
    return int(rng.integers(0, len(items)))


def _square(img: Image.Image, resample=Image.Resampling.BICUBIC) -> Image.Image:
    """A family's own resize to 256: bicubic, Pillow's default in the published environment."""
    return img.resize(SQUARE, resample)


def _pool_image(name: str, family: str, ctx: ChainContext) -> Image.Image:
    """A pool image at its full resolution, as the recipe opens it."""
    img, problem = load_pool_image(ctx.assets.pool_path(name))
    if problem:
        ctx.fallback(family, "pool image unreadable, mid-grey used", pool_image=name, error=problem)
    return img


# ---------------------------------------------------------------- 1 change_channel


def sample_change_channel(rng, ctx):
    mode = ("shift", "swap", "invert")[_r(rng, 0, 2)]
    if mode == "shift":
        return {"mode": mode, "shift": int(_u(rng, 0, 40))}
    if mode == "swap":
        return {"mode": mode, "order": [int(c) for c in rng.permutation(3)]}
    return {"mode": mode, "invert": [bool(b) for b in rng.random(3) < 0.5]}


def apply_change_channel(img, p, ctx):
    arr = np.asarray(img.convert("RGB"))
    if p["mode"] == "shift":
        s = p["shift"]
        h, w = arr.shape[:2]
        limit = (min(h, w) - 1) // 2
        if s > limit:
            ctx.fallback("change_channel", "shift larger than the image allows, clamped", shift=limit)
            s = limit
        out = arr.copy()
        out[..., 0] = np.roll(arr[..., 0], (s, -s), axis=(0, 1))
        out[..., 2] = np.roll(arr[..., 2], (-s, s), axis=(0, 1))
        out = out[s : h - s, s : w - s]
    elif p["mode"] == "swap":
        out = arr[..., p["order"]]
    else:
        out = arr.copy()
        for c, flip in enumerate(p["invert"]):
            if flip:
                out[..., c] = 255 - out[..., c]
    return _square(Image.fromarray(np.ascontiguousarray(out), "RGB"))


# ---------------------------------------------------------------- 2 pad_square


def sample_pad_square(rng, ctx):
    return {"color": _colour(rng)}


def apply_pad_square(img, p, ctx):
    return _square(F.pad_square(img, color=tuple(p["color"])))


# ---------------------------------------------------------------- 3 resized_crop


CROP_ATTEMPTS = 10  # torchvision's RandomResizedCrop draws at most this many boxes


def sample_resized_crop(rng, ctx):
    # Drawn without the image size: every attempt up front, positions as fractions.
    return {
        "attempts": [
            [_u(rng, 0.3, 1.0), _u(rng, math.log(3 / 4), math.log(4 / 3))] for _ in range(CROP_ATTEMPTS)
        ],
        "x": _u(rng, 0.0, 1.0),
        "y": _u(rng, 0.0, 1.0),
    }


def crop_box(width: int, height: int, p: dict) -> tuple[int, int, int, int]:
    """torchvision's RandomResizedCrop.get_params: the first attempt that fits, else a centre crop."""
    area = width * height
    for scale, log_ratio in p["attempts"]:
        ratio = math.exp(log_ratio)
        w = round(math.sqrt(area * scale * ratio))
        h = round(math.sqrt(area * scale / ratio))
        if 0 < w <= width and 0 < h <= height:
            left = min(width - w, int(p["x"] * (width - w + 1)))
            top = min(height - h, int(p["y"] * (height - h + 1)))
            return left, top, left + w, top + h
    in_ratio = width / height
    if in_ratio < 3 / 4:
        w, h = width, round(width / (3 / 4))
    elif in_ratio > 4 / 3:
        w, h = round(height * (4 / 3)), height
    else:
        w, h = width, height
    left, top = (width - w) // 2, (height - h) // 2
    return left, top, left + w, top + h


def apply_resized_crop(img, p, ctx):
    return _square(img.crop(crop_box(img.width, img.height, p)), Image.Resampling.BILINEAR)


# ---------------------------------------------------------------- 4 rotate


def sample_rotate(rng, ctx):
    return {"degrees": _u(rng, 0.0, 360.0)}


def apply_rotate(img, p, ctx):
    out = F.rotate(img, degrees=p["degrees"])
    if min(out.size) < 1:
        ctx.fallback("rotate", "inscribed rectangle empty, image kept unrotated")
        return img
    return out


# ---------------------------------------------------------------- 5 image_opaque


def sample_image_opaque(rng, ctx):
    pool = ctx.assets.pool
    return {"opacity": _u(rng, 0.2, 1.0), "pool_image": pool[_pick(rng, pool)].name}


def apply_image_opaque(img, p, ctx):
    background = _square(_pool_image(p["pool_image"], "image_opaque", ctx))
    return F.overlay_image(
        background, overlay=_square(img), opacity=p["opacity"], overlay_size=1.0, x_pos=0.0, y_pos=0.0
    ).convert("RGB")


# ---------------------------------------------------------------- 6 grayscale


def sample_grayscale(rng, ctx):
    return {}


def apply_grayscale(img, p, ctx):
    return F.grayscale(img)


# ---------------------------------------------------------------- 7 color_jitter


def sample_color_jitter(rng, ctx):
    # torchvision ColorJitter(3, 4, 4, 0.5): factors drawn from [max(0, 1-x), 1+x].
    return {
        "brightness": _u(rng, 0.0, 4.0),
        "contrast": _u(rng, 0.0, 5.0),
        "saturation": _u(rng, 0.0, 5.0),
        "hue": _u(rng, -0.5, 0.5),
        "order": [int(i) for i in rng.permutation(4)],
    }


def _shift_hue(img: Image.Image, hue: float) -> Image.Image:
    h, s, v = img.convert("HSV").split()
    shifted = (np.asarray(h, dtype=np.int16) + int(round(hue * 255))) % 256
    h = Image.fromarray(shifted.astype(np.uint8), "L")
    return Image.merge("HSV", (h, s, v)).convert("RGB")


def apply_color_jitter(img, p, ctx):
    steps = (
        lambda im: ImageEnhance.Brightness(im).enhance(p["brightness"]),
        lambda im: ImageEnhance.Contrast(im).enhance(p["contrast"]),
        lambda im: ImageEnhance.Color(im).enhance(p["saturation"]),
        lambda im: _shift_hue(im, p["hue"]),
    )
    for i in p["order"]:
        img = steps[i](img)
    return img


# ---------------------------------------------------------------- 8 blur


def sample_blur(rng, ctx):
    return {"radius": _u(rng, 2.0, 5.0)}


def apply_blur(img, p, ctx):
    return F.blur(img, radius=p["radius"])


# ---------------------------------------------------------------- 9 pixelization


def sample_pixelization(rng, ctx):
    return {"ratio": _u(rng, 0.1, 1.0)}


def apply_pixelization(img, p, ctx):
    ratio = p["ratio"]
    smallest = min(img.size)
    if int(smallest * ratio) < 1:
        ratio = 1.0 / smallest
        ctx.fallback("pixelization", "ratio leaves no pixel, raised to one pixel", ratio=ratio)
    return F.pixelization(img, ratio=ratio)


# ---------------------------------------------------------------- 10 pad


def sample_pad(rng, ctx):
    return {"w_factor": _u(rng, 0.0, 0.5), "h_factor": _u(rng, 0.0, 0.5), "color": _colour(rng)}


def apply_pad(img, p, ctx):
    return _square(F.pad(img, w_factor=p["w_factor"], h_factor=p["h_factor"], color=tuple(p["color"])))


# ---------------------------------------------------------------- 11 noise


def sample_noise(rng, ctx):
    return {"mean": _u(rng, 0.0, 0.5), "var": _u(rng, 0.0, 0.5), "seed": _seed(rng)}


def apply_noise(img, p, ctx):
    # AugLy's random_noise (Gaussian on [0, 1], clipped), drawn from the chain's
    # own seeded generator: AugLy's version reseeds NumPy's global generator.
    rng = np.random.Generator(np.random.PCG64(p["seed"]))
    arr = np.asarray(img, dtype=np.float32)
    noise = rng.standard_normal(arr.shape, dtype=np.float32)
    noise *= np.float32(255.0 * math.sqrt(p["var"]))
    noise += np.float32(255.0 * p["mean"])
    arr += noise
    np.clip(arr, 0.0, 255.0, out=arr)
    return Image.fromarray(arr.astype(np.uint8), img.mode)


# ---------------------------------------------------------------- 12 vflip, 13 hflip


def sample_vflip(rng, ctx):
    return {}


def apply_vflip(img, p, ctx):
    return F.vflip(img)


def sample_hflip(rng, ctx):
    return {}


def apply_hflip(img, p, ctx):
    return F.hflip(img)


# ---------------------------------------------------------------- 14 encoding_quality


def sample_encoding_quality(rng, ctx):
    return {"quality": int(_u(rng, 0.0, 50.0))}


def apply_encoding_quality(img, p, ctx):
    return F.encoding_quality(img, quality=p["quality"])


# ---------------------------------------------------------------- 15 overlay_stripes


def sample_overlay_stripes(rng, ctx):
    return {
        "line_width": _u(rng, 0.0, 1.0),
        "line_color": _colour(rng),
        "line_angle": _r(rng, 0, 360),
        "line_density": _u(rng, 0.0, 1.0),
        "line_opacity": _u(rng, 0.0, 1.0),
    }


def apply_overlay_stripes(img, p, ctx):
    return F.overlay_stripes(
        img,
        line_width=p["line_width"],
        line_color=tuple(p["line_color"]),
        line_angle=p["line_angle"],
        line_density=p["line_density"],
        line_opacity=p["line_opacity"],
    )


# ---------------------------------------------------------------- 16 sharpen


def sample_sharpen(rng, ctx):
    return {"factor": _u(rng, 2.0, 20.0)}


def apply_sharpen(img, p, ctx):
    return F.sharpen(img, factor=p["factor"])


# ---------------------------------------------------------------- 17 skew


def sample_skew(rng, ctx):
    return {"skew_factor": _u(rng, -2.0, 2.0)}


def apply_skew(img, p, ctx):
    return F.skew(img, skew_factor=p["skew_factor"])


# ---------------------------------------------------------------- 18 shuffle_pixels


def sample_shuffle_pixels(rng, ctx):
    return {"factor": _u(rng, 0.1, 0.5), "seed": _seed(rng)}


def apply_shuffle_pixels(img, p, ctx):
    # AugLy's shuffle_pixels (a factor of the pixels, chosen without
    # replacement, permuted among themselves) from the chain's own generator:
    # AugLy's version reseeds NumPy's global generator.
    rng = np.random.Generator(np.random.PCG64(p["seed"]))
    arr = np.array(img)
    pixels = arr.reshape(-1, arr.shape[2] if arr.ndim == 3 else 1)
    count = int(p["factor"] * pixels.shape[0])
    chosen = rng.permutation(pixels.shape[0])[:count]
    pixels[chosen] = pixels[rng.permutation(chosen)]
    return Image.fromarray(arr, img.mode)


# ---------------------------------------------------------------- 19 meme_format


def sample_meme_format(rng, ctx):
    letters = rng.choice(len(LETTERS), size=_r(rng, 1, 10), replace=False)
    fonts = ctx.assets.fonts
    font = fonts[_pick(rng, fonts)].name if ctx.meme_random_font else ctx.assets.meme_default_font.name
    return {
        "text": "".join(LETTERS[i] for i in letters),
        "opacity": _u(rng, 0.0, 1.0),
        "text_color": _colour(rng),
        "caption_height": _r(rng, 100, 300),
        "meme_bg_color": _colour(rng),
        "font": font,
    }


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
    font_path = ctx.assets.font_path(p["font"])
    try:
        load_font(str(font_path), 10)
        return str(font_path)
    except OSError as exc:
        ctx.fallback("meme_format", f"font cannot be read ({exc}), AugLy's default used", font=p["font"])
        return str(ctx.assets.meme_default_font)


def apply_meme_format(img, p, ctx):
    width, height = img.size
    caption = p["caption_height"]
    font_path = _meme_font(p, ctx)
    size = meme_font_size(font_path, p["text"], width - 10, caption - 10, caption - 10)
    if size is None:
        size = 1
        ctx.fallback("meme_format", "caption text fits at no font size, smallest size used", font_size=1)
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
    return _square(meme)


# ---------------------------------------------------------------- 20 overlay_emoji


def sample_overlay_emoji(rng, ctx):
    emoji = ctx.assets.emoji
    return {
        "emoji": ctx.assets.emoji_name(emoji[_pick(rng, emoji)]),
        "opacity": _u(rng, 0.2, 1.0),
        "emoji_size": _u(rng, 0.2, 1.0),
        "x_pos": _u(rng, 0.0, 0.5),
        "y_pos": _u(rng, 0.0, 0.5),
    }


def apply_overlay_emoji(img, p, ctx):
    # AugLy's overlay_emoji is overlay_image with the emoji file; the emoji is
    # opened here (links resolved) because AugLy's own path check rejects symlinks.
    emoji, problem = load_emoji(ctx.assets.emoji_path(p["emoji"]))
    if problem:
        ctx.fallback("overlay_emoji", "emoji unreadable, not overlaid", emoji=p["emoji"], error=problem)
        return img
    return F.overlay_image(
        img,
        overlay=emoji,
        opacity=p["opacity"],
        overlay_size=p["emoji_size"],
        x_pos=p["x_pos"],
        y_pos=p["y_pos"],
    )


# ---------------------------------------------------------------- 21 overlay_text


def sample_overlay_text(rng, ctx):
    fonts = ctx.assets.fonts
    return {
        "text": [int(i) for i in rng.integers(0, 100, size=_r(rng, 0, 20))],
        "font": fonts[_pick(rng, fonts)].name,
        "color": _colour(rng),
        "opacity": _u(rng, 0.0, 1.0),
        "font_size": _u(rng, 0.0, 1.0),
        "x_pos": _u(rng, 0.0, 0.5),
        "y_pos": _u(rng, 0.0, 0.5),
    }


def _overlay_text_string(p, font_path: str, ctx: ChainContext) -> str:
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


def apply_overlay_text(img, p, ctx):
    font_path = str(ctx.assets.font_path(p["font"]))
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


# ---------------------------------------------------------------- 22 perspective


def sample_perspective(rng, ctx):
    return {"sigma": _u(rng, 10.0, 50.0), "seed": _seed(rng)}


def _perspective_coeffs(src, dst) -> list[float]:
    rows = []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.asarray(rows, dtype=np.float64)
    b = np.asarray(src, dtype=np.float64).reshape(8)
    coeffs, *_ = np.linalg.lstsq(a, b, rcond=None)
    return [float(c) for c in coeffs]


def apply_perspective(img, p, ctx):
    # AugLy's perspective_transform: each corner moved by N(0, sigma), bicubic warp.
    rng = np.random.Generator(np.random.PCG64(p["seed"]))
    w, h = img.size
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    sigma = p["sigma"]
    dst = [(float(rng.normal(x, sigma)), float(rng.normal(y, sigma))) for x, y in src]
    coeffs = _perspective_coeffs(src, dst)
    return img.transform((w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC)


# ---------------------------------------------------------------- 23 overlay_onto_image


def sample_overlay_onto_image(rng, ctx):
    pool = ctx.assets.pool
    return {
        "pool_image": pool[_pick(rng, pool)].name,
        "opacity": _u(rng, 0.6, 1.0),
        "overlay_size": _u(rng, 0.5, 1.0),
        "x_pos": _u(rng, 0.0, 0.5),
        "y_pos": _u(rng, 0.0, 0.5),
    }


def apply_overlay_onto_image(img, p, ctx):
    background = _pool_image(p["pool_image"], "overlay_onto_image", ctx)
    inset_h = max(1, int(background.height * p["overlay_size"]))
    scale_bg = int(img.width * inset_h / img.height) < 1
    if scale_bg:
        ctx.fallback("overlay_onto_image", "inset would be 0 px wide, background scaled to the image")
    out = F.overlay_onto_background_image(
        img,
        background_image=background,
        opacity=p["opacity"],
        overlay_size=p["overlay_size"],
        x_pos=p["x_pos"],
        y_pos=p["y_pos"],
        scale_bg=scale_bg,
    )
    return _square(out.convert("RGB"))


# ---------------------------------------------------------------- 24 stack


def sample_stack(rng, ctx):
    pool = ctx.assets.pool
    return {"pool_image": pool[_pick(rng, pool)].name, "order": _r(rng, 0, 1), "direction": _r(rng, 0, 1)}


def apply_stack(img, p, ctx):
    other = _square(_pool_image(p["pool_image"], "stack", ctx))
    first, second = (_square(img), other) if p["order"] == 0 else (other, _square(img))
    horizontal = p["direction"] == 0
    canvas = Image.new("RGB", (OUTPUT_SIZE * 2, OUTPUT_SIZE) if horizontal else (OUTPUT_SIZE, OUTPUT_SIZE * 2))
    canvas.paste(first, (0, 0))
    canvas.paste(second, (OUTPUT_SIZE, 0) if horizontal else (0, OUTPUT_SIZE))
    return _square(canvas)


# ---------------------------------------------------------------- registry


@dataclass(frozen=True)
class Family:
    name: str
    sample: Callable
    apply: Callable


FAMILY_NAMES = (
    "change_channel",
    "pad_square",
    "resized_crop",
    "rotate",
    "image_opaque",
    "grayscale",
    "color_jitter",
    "blur",
    "pixelization",
    "pad",
    "noise",
    "vflip",
    "hflip",
    "encoding_quality",
    "overlay_stripes",
    "sharpen",
    "skew",
    "shuffle_pixels",
    "meme_format",
    "overlay_emoji",
    "overlay_text",
    "perspective",
    "overlay_onto_image",
    "stack",
)

FAMILIES: dict[str, Family] = {
    name: Family(name, globals()[f"sample_{name}"], globals()[f"apply_{name}"]) for name in FAMILY_NAMES
}
