"""Every family: its sampler draws the recipe's ranges, its apply is deterministic and never raises."""

from __future__ import annotations

import math
import sys
import typing

import augly.image.functional as augly_f
import numpy as np
import pytest
from PIL import Image

from vsc_assets.augment import typesetting
from vsc_assets.augment.families import FAMILIES, FAMILY_NAMES, REGISTRY, ChainContext
from vsc_assets.augment.families.geometry import _perspective_coeffs, crop_box
from vsc_assets.demo.images import demo_image


def ctx_for(materials, **kw) -> ChainContext:
    """The recipe as written: each family's own apply (the production kernels have tests of their own)."""
    return ChainContext(materials=materials, **{"reference": True, **kw})


def draws(name, materials, n=300, seed=0):
    rng = np.random.default_rng(seed)
    ctx = ctx_for(materials)
    return [FAMILIES[name].sample(rng, ctx) for _ in range(n)]


def apply(name, img, params, materials, **kw):
    ctx = ctx_for(materials, **kw)
    return FAMILIES[name].apply(img, params, ctx), ctx


@pytest.fixture(scope="module")
def photo():
    return demo_image(3).convert("RGB").resize((320, 240))


def in_range(values, low, high):
    return all(low <= v <= high for v in values)


# ------------------------------------------------------------ registry


def test_registry_has_24_families_each_a_typed_record_with_a_test(materials):
    assert len(FAMILY_NAMES) == 24 and len(set(FAMILY_NAMES)) == 24
    module = sys.modules[__name__]
    for family in REGISTRY:
        assert callable(family.sample) and callable(family.apply), family.name
        assert typing.is_typeddict(family.params), family.name
        declared = set(family.params.__annotations__)
        for params in draws(family.name, materials, n=20, seed=3):
            assert set(params) <= declared, (family.name, set(params) - declared)  # draws only what it declares
        assert callable(getattr(module, f"test_{family.name}", None)), f"test_{family.name} missing"


def test_family_properties_say_which_end_at_256_and_which_commute_with_downscaling():
    ends = {f.name for f in REGISTRY if f.ends_at_256}
    assert ends == {"change_channel", "pad_square", "resized_crop", "image_opaque", "pad", "meme_format", "overlay_onto_image", "stack"}
    in_pixels = {"noise", "encoding_quality", "sharpen", "shuffle_pixels"}
    for family in REGISTRY:
        if family.name in in_pixels:
            assert not family.commutes_with_downscale({}), family.name
    assert FAMILIES["change_channel"].commutes_with_downscale({"mode": "swap"})
    assert not FAMILIES["change_channel"].commutes_with_downscale({"mode": "shift"})  # s pixels of the image it receives
    assert FAMILIES["rotate"].commutes_with_downscale({"degrees": 10.0})
    # perspective's corners move by sigma px: at a quarter of the size, a quarter of sigma is the same warp
    perspective = FAMILIES["perspective"]
    assert perspective.commutes_with_downscale({}) and perspective.at_scale({"sigma": 40.0, "seed": 1}, 4)["sigma"] == 10.0
    # low-pass filters with their cut-off in pixels: it moves with the image
    assert FAMILIES["blur"].at_scale({"radius": 4.0}, 2) == {"radius": 2.0}
    assert FAMILIES["pixelization"].at_scale({"ratio": 0.2}, 3)["ratio"] == pytest.approx(0.6)
    assert FAMILIES["pixelization"].at_scale({"ratio": 0.5}, 3) == {"ratio": 1.0}  # no coarser than the reduced image
    assert FAMILIES["meme_format"].at_scale({"caption_height": 120}, 2) == {"caption_height": 120, "scale": 2}


MEME = {"text": "pAvV", "opacity": 0.8, "text_color": [250, 20, 20], "meme_bg_color": [10, 10, 10]}


@pytest.mark.parametrize("name, params", [
    ("blur", {"radius": 2.0}), ("blur", {"radius": 5.0}),
    ("pixelization", {"ratio": 0.1}), ("pixelization", {"ratio": 0.3}),
    ("meme_format", {**MEME, "caption_height": 120}), ("meme_format", {**MEME, "caption_height": 285}),
])  # fmt: skip
@pytest.mark.parametrize("factor", [2, 3])
def test_families_in_pixels_with_a_scaled_form_on_a_reduced_image_are_the_full_size_result_reduced(
    name, params, factor, materials
):
    # What lets a chain with them start reduced (resolution.py): the family, then the reduction
    # (for meme_format, its own resize to 256), is within a level or two of the reduction, then
    # the family with its parameters scaled; unscaled, it is many levels away.
    img = demo_image(3).convert("RGB").resize((960, 720))
    family, ctx = FAMILIES[name], ChainContext(materials, reference=True)
    params = {**params, "font": materials.meme_default_font.name} if name == "meme_format" else params

    def distance(a, b):
        return np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).mean()

    full = family.apply(img, params, ctx)
    full = full if family.ends_at_256 else full.reduce(factor)
    scaled = distance(full, family.apply(img.reduce(factor), family.at_scale(params, factor), ctx))
    unscaled = distance(full, family.apply(img.reduce(factor), params, ctx))
    assert scaled < 2.5 and scaled < unscaled / 5, (scaled, unscaled)
    assert ctx.fallbacks == []


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_every_family_is_json_safe_deterministic_and_does_not_touch_its_input(name, materials, photo):
    import json

    before = photo.tobytes()
    for params in draws(name, materials, n=5, seed=7):
        assert json.loads(json.dumps(params)) == params
        a, _ = apply(name, photo, params, materials)
        b, _ = apply(name, photo, params, materials)
        assert a.tobytes() == b.tobytes()
        assert min(a.size) >= 1
    assert photo.tobytes() == before


# ------------------------------------------------------------ one test per family


def _shifted(img: Image.Image, s: int) -> Image.Image:
    """The shift mode by hand: R rolled by (s, -s), B by (-s, s), s px cropped off each border, bicubic to 256."""
    arr = np.asarray(img)
    out = arr.copy()
    out[..., 0] = np.roll(arr[..., 0], (s, -s), axis=(0, 1))
    out[..., 2] = np.roll(arr[..., 2], (-s, s), axis=(0, 1))
    return Image.fromarray(np.ascontiguousarray(out[s:-s, s:-s])).resize((256, 256), Image.BICUBIC)


def test_change_channel(materials, photo):
    ps = draws("change_channel", materials)
    modes = {p["mode"] for p in ps}
    assert modes == {"shift", "swap", "invert"}
    assert in_range([p["shift"] for p in ps if p["mode"] == "shift"], 0, 39)
    out, _ = apply("change_channel", photo, {"mode": "shift", "shift": 10}, materials)
    assert out.size == (256, 256)
    assert out.tobytes() == _shifted(photo, 10).tobytes()
    swapped, _ = apply("change_channel", photo, {"mode": "swap", "order": [2, 1, 0]}, materials)
    assert np.array_equal(np.asarray(swapped), np.asarray(photo.resize((256, 256), Image.BICUBIC))[..., ::-1])


def test_change_channel_shift_is_in_pixels_of_the_image_it_receives(materials, photo):
    # The recipe's s=10 is 10 px whatever the size: on a 2x image it moves half as far, relatively.
    big = photo.resize((640, 480))
    out, _ = apply("change_channel", big, {"mode": "shift", "shift": 10}, materials)
    assert out.tobytes() == _shifted(big, 10).tobytes()


def test_change_channel_shift_clamped_on_tiny_image(materials):
    tiny = Image.new("RGB", (9, 40), (1, 2, 3))
    out, ctx = apply("change_channel", tiny, {"mode": "shift", "shift": 39}, materials)
    assert out.size == (256, 256)
    assert ctx.fallbacks and ctx.fallbacks[0]["shift"] == 4


def test_pad_square(materials, photo):
    assert all(len(p["color"]) == 3 and in_range(p["color"], 0, 255) for p in draws("pad_square", materials))
    out, _ = apply("pad_square", photo, {"color": [255, 0, 0]}, materials)
    assert out.tobytes() == augly_f.pad_square(photo, color=(255, 0, 0)).resize((256, 256), Image.BICUBIC).tobytes()
    assert out.getpixel((128, 2)) == (255, 0, 0)  # 320x240 padded top and bottom


def test_resized_crop(materials, photo):
    ps = draws("resized_crop", materials)
    assert all(len(p["attempts"]) == 10 for p in ps)
    assert in_range([a[0] for p in ps for a in p["attempts"]], 0.3, 1.0)
    assert in_range([math.exp(a[1]) for p in ps for a in p["attempts"]], 3 / 4, 4 / 3)
    whole = {"attempts": [[1.0, 0.0]] * 10, "x": 0.0, "y": 0.0}
    out, _ = apply("resized_crop", photo, whole, materials)
    assert out.tobytes() == photo.resize((256, 256), Image.BILINEAR).tobytes()


def test_resized_crop_draws_again_instead_of_clamping():
    # 400x100: a full-area box of ratio 1 (200x200) does not fit; torchvision draws again.
    p = {"attempts": [[1.0, 0.0], [0.25, 0.0]] + [[1.0, 0.0]] * 8, "x": 0.0, "y": 1.0}
    assert crop_box(400, 100, p) == (0, 0, 100, 100)  # the second draw, 100x100, at the bottom-left
    # nothing fits: centre crop with the ratio clamped to 4/3
    assert crop_box(400, 100, {"attempts": [[1.0, 0.0]] * 10, "x": 0.5, "y": 0.5}) == (133, 0, 266, 100)


def test_resized_crop_area_follows_torchvision_on_4_3_images(materials):
    # The clamped version gave a mean area of 0.62 and full-height or full-width crops 34% of the time.
    areas, spans = [], 0
    for p in draws("resized_crop", materials, n=3000, seed=3):
        left, top, right, bottom = crop_box(1024, 768, p)
        areas.append((right - left) * (bottom - top) / (1024 * 768))
        spans += (right - left) == 1024 or (bottom - top) == 768
    assert 0.53 < np.mean(areas) < 0.57
    assert spans / 3000 < 0.05


def test_rotate(materials, photo):
    assert in_range([p["degrees"] for p in draws("rotate", materials)], 0, 360)
    out, _ = apply("rotate", photo, {"degrees": 45.0}, materials)
    assert out.size == augly_f.rotate(photo, degrees=45.0).size


def test_image_opaque(materials, photo):
    ps = draws("image_opaque", materials)
    assert in_range([p["opacity"] for p in ps], 0.2, 1.0)
    assert {p["pool_image"] for p in ps} <= {p.name for p in materials.pool}
    out, _ = apply("image_opaque", photo, ps[0], materials)
    assert out.size == (256, 256)


def test_grayscale(materials, photo):
    out, _ = apply("grayscale", photo, {}, materials)
    arr = np.asarray(out)
    assert out.mode == "RGB" and np.array_equal(arr[..., 0], arr[..., 1])


def test_color_jitter(materials, photo):
    ps = draws("color_jitter", materials)
    assert in_range([p["brightness"] for p in ps], 0, 4)
    assert in_range([p["contrast"] for p in ps], 0, 5)
    assert in_range([p["saturation"] for p in ps], 0, 5)
    assert in_range([p["hue"] for p in ps], -0.5, 0.5)
    assert all(sorted(p["order"]) == [0, 1, 2, 3] for p in ps)
    black, _ = apply("color_jitter", photo, {"brightness": 0.0, "contrast": 1.0, "saturation": 1.0, "hue": 0.0, "order": [0, 1, 2, 3]}, materials)
    assert np.asarray(black).max() == 0


def test_blur(materials, photo):
    assert in_range([p["radius"] for p in draws("blur", materials)], 2, 5)
    full, _ = apply("blur", photo, {"radius": 4.0}, materials)
    assert full.tobytes() == augly_f.blur(photo, radius=4.0).tobytes()  # the radius is never rescaled


def test_pixelization(materials, photo):
    assert in_range([p["ratio"] for p in draws("pixelization", materials)], 0.1, 1)
    out, _ = apply("pixelization", photo, {"ratio": 0.2}, materials)
    assert out.tobytes() == augly_f.pixelization(photo, ratio=0.2).tobytes()
    tiny, ctx = apply("pixelization", Image.new("RGB", (5, 300)), {"ratio": 0.1}, materials)
    assert tiny.size == (5, 300) and ctx.fallbacks


def test_pad(materials, photo):
    ps = draws("pad", materials)
    assert in_range([p["w_factor"] for p in ps], 0, 0.5) and in_range([p["h_factor"] for p in ps], 0, 0.5)
    out, _ = apply("pad", photo, {"w_factor": 0.5, "h_factor": 0.0, "color": [0, 255, 0]}, materials)
    assert out.size == (256, 256) and out.getpixel((2, 128)) == (0, 255, 0)


def test_noise(materials, photo):
    ps = draws("noise", materials)
    assert in_range([p["mean"] for p in ps], 0, 0.5) and in_range([p["var"] for p in ps], 0, 0.5)
    a, _ = apply("noise", photo, {"mean": 0.1, "var": 0.05, "seed": 1}, materials)
    assert np.asarray(a).mean() > np.asarray(photo).mean()  # mean 0.1 on [0, 1] brightens on average


@pytest.mark.parametrize("size", [(320, 240), (256, 256), (97, 131)])
def test_noise_published_is_augly_random_noise_with_its_default_seed(materials, size):
    img = demo_image(4).convert("RGB").resize(size)
    for mean, var in ((0.1, 0.05), (0.0, 0.49), (0.43, 0.002)):
        expected = augly_f.random_noise(img, mean=mean, var=var)  # seeds NumPy's global generator with 42
        for _ in range(2):  # drawn, then kept for the shape: the same bytes
            ours, _ = apply("noise", img, {"mean": mean, "var": var, "seed": 7}, materials)
            assert ours.tobytes() == expected.tobytes()


def test_noise_published_in_row_chunks_is_the_same_field(materials, monkeypatch):
    from vsc_assets.augment import bands, frozen

    img = demo_image(5).convert("RGB").resize((300, 200))
    whole, _ = apply("noise", img, {"mean": 0.2, "var": 0.1, "seed": 0}, materials)
    monkeypatch.setattr(frozen, "CACHE_BYTES", 0)  # as an image too large to keep
    monkeypatch.setattr(bands, "BAND_VALUES", 5_000)  # a few rows at a time
    chunked, _ = apply("noise", img, {"mean": 0.2, "var": 0.1, "seed": 0}, materials)
    assert chunked.tobytes() == whole.tobytes()


def test_noise_published_is_frozen_per_image_is_not(materials, photo):
    other = demo_image(6).convert("RGB").resize(photo.size)
    params = {"mean": 0.0, "var": 0.05, "seed": 1}
    deltas = []
    for img in (photo, other):
        out, _ = apply("noise", img, params, materials)
        deltas.append(np.asarray(out, dtype=int) - np.asarray(img, dtype=int))
    assert np.mean(deltas[0] == deltas[1]) > 0.5  # one field for every image of a shape (clipping aside)
    a, _ = apply("noise", photo, params, materials, randomness="per_image")
    b, _ = apply("noise", photo, {**params, "seed": 2}, materials, randomness="per_image")
    assert a.tobytes() != b.tobytes()  # each chain's own seed
    state = np.random.get_state()[1].copy()
    apply("noise", photo, params, materials)
    apply("noise", photo, params, materials, randomness="per_image")
    assert np.array_equal(state, np.random.get_state()[1])  # NumPy's global generator untouched in either mode


def test_vflip(materials, photo):
    out, _ = apply("vflip", photo, {}, materials)
    assert out.tobytes() == photo.transpose(Image.FLIP_TOP_BOTTOM).tobytes()


def test_hflip(materials, photo):
    out, _ = apply("hflip", photo, {}, materials)
    assert out.tobytes() == photo.transpose(Image.FLIP_LEFT_RIGHT).tobytes()


def test_encoding_quality(materials, photo):
    qs = [p["quality"] for p in draws("encoding_quality", materials)]
    assert in_range(qs, 0, 49) and all(isinstance(q, int) for q in qs)
    out, _ = apply("encoding_quality", photo, {"quality": 5}, materials)
    assert out.size == photo.size and out.tobytes() != photo.tobytes()


def test_overlay_stripes(materials, photo):
    ps = draws("overlay_stripes", materials)
    assert in_range([p["line_angle"] for p in ps], 0, 360)
    assert all(isinstance(p["line_angle"], int) for p in ps)
    for key in ("line_width", "line_density", "line_opacity"):
        assert in_range([p[key] for p in ps], 0, 1)
    out, _ = apply("overlay_stripes", photo, ps[0], materials)
    assert out.size == photo.size


def test_sharpen(materials, photo):
    assert in_range([p["factor"] for p in draws("sharpen", materials)], 2, 20)
    out, _ = apply("sharpen", photo, {"factor": 5.0}, materials)
    assert out.tobytes() == augly_f.sharpen(photo, factor=5.0).tobytes()


def test_skew(materials, photo):
    assert in_range([p["skew_factor"] for p in draws("skew", materials)], -2, 2)
    out, _ = apply("skew", photo, {"skew_factor": 1.0}, materials)
    assert out.tobytes() == augly_f.skew(photo, skew_factor=1.0).tobytes()


def test_shuffle_pixels(materials, photo):
    assert in_range([p["factor"] for p in draws("shuffle_pixels", materials)], 0.1, 0.5)
    for randomness in ("published", "per_image"):
        out, _ = apply("shuffle_pixels", photo, {"factor": 0.3, "seed": 5}, materials, randomness=randomness)
        a, b = np.asarray(photo).reshape(-1, 3), np.asarray(out).reshape(-1, 3)
        changed = np.any(a != b, axis=1).mean()
        assert 0.05 < changed <= 0.3
        assert sorted(map(tuple, a)) == sorted(map(tuple, b))  # the same pixels, rearranged
    other, _ = apply("shuffle_pixels", photo, {"factor": 0.3, "seed": 6}, materials, randomness="per_image")
    assert other.tobytes() != out.tobytes()


@pytest.mark.parametrize("size", [(320, 240), (256, 256), (61, 203)])
def test_shuffle_pixels_published_is_augly_shuffle_pixels_with_its_default_seed(materials, size):
    img = demo_image(7).convert("RGB").resize(size)
    for factor in (0.1, 0.2718, 0.5):
        expected = augly_f.shuffle_pixels(img, factor=factor)  # seeds NumPy's global generator with 10
        for _ in range(2):  # drawn, then kept for the shape and factor: the same bytes
            ours, _ = apply("shuffle_pixels", img, {"factor": factor, "seed": 3}, materials)
            assert ours.tobytes() == expected.tobytes()


def test_meme_format(materials, photo):
    ps = draws("meme_format", materials)
    assert all(1 <= len(p["text"]) <= 10 and len(set(p["text"])) == len(p["text"]) and p["text"].isalpha() for p in ps)
    assert in_range([p["caption_height"] for p in ps], 100, 300)
    assert {p["font"] for p in ps} == {materials.meme_default_font.name}  # s27 keeps AugLy's default
    s3 = [FAMILIES["meme_format"].sample(np.random.default_rng(i), ctx_for(materials, meme_random_font=True)) for i in range(50)]
    assert len({p["font"] for p in s3}) > 10 and all(p["font"].endswith(".ttf") for p in s3)
    # AugLy 1.0.0's own meme_format calls getsize_multiline, gone since Pillow 10
    with pytest.raises(AttributeError):
        augly_f.meme_format(photo, text="abc")
    out, _ = apply("meme_format", photo, {**ps[0], "meme_bg_color": [0, 0, 255], "caption_height": 200}, materials)
    assert out.size == (256, 256)
    assert out.getpixel((2, 2)) == (0, 0, 255)  # the caption band sits on top
    # The band is caption_height px of the image it receives: 200 of 440 rows before the resize.
    # Column 1 lies in the 5 px margin the text never enters.
    band = np.all(np.abs(np.asarray(out)[:, 1].astype(int) - (0, 0, 255)) <= 2, axis=1)
    assert abs(band.sum() - 256 * 200 / 440) <= 3


def test_meme_text_is_measured_as_pillow_9_did(materials):
    from vsc_assets.augment.materials import load_font

    font = load_font(str(materials.meme_default_font), 80)
    # The height is the letter "A"'s, whatever the text: "ace" and "gjpq" measure alike.
    assert typesetting.meme_text_size(font, "ace")[1] == typesetting.meme_text_size(font, "gjpq")[1] == font.getbbox("A")[3]
    assert typesetting.meme_text_size(font, "ace")[0] == font.getbbox("ace")[2]


def test_meme_font_size_is_the_first_of_augly_steps_that_fits(materials):
    from vsc_assets.augment.materials import load_font

    def linear(path, text, max_w, max_h, start):
        size = start
        while size > 0:
            w, h = typesetting.meme_text_size(load_font(path, size), text)
            if w <= max_w and h <= max_h:
                return size
            size -= 5
        return None

    fonts = [str(materials.meme_default_font)] + [str(f) for f in materials.fonts[::25]]
    cases = [("abcdefghij", 90, 290), ("Q", 1000, 290), ("WMWMWMWMWM", 40, 95), ("abc", 5, 90), ("xyz", 246, 190)]
    for path in fonts:
        for text, max_w, start in cases:
            assert typesetting.meme_font_size(path, text, max_w, start, start) == linear(path, text, max_w, start, start)


def test_overlay_emoji(materials, photo):
    ps = draws("overlay_emoji", materials)
    assert in_range([p["opacity"] for p in ps], 0.2, 1) and in_range([p["emoji_size"] for p in ps], 0.2, 1)
    assert in_range([p["x_pos"] for p in ps], 0, 0.5) and in_range([p["y_pos"] for p in ps], 0, 0.5)
    assert all(materials.emoji_path(p["emoji"]).is_file() for p in ps)
    out, _ = apply("overlay_emoji", photo, ps[0], materials)
    assert out.size == photo.size and out.tobytes() != photo.tobytes()
    path = str(materials.emoji_path(ps[0]["emoji"]))
    kw = {k: ps[0][k] for k in ("opacity", "emoji_size", "x_pos", "y_pos")}
    assert out.tobytes() == augly_f.overlay_emoji(photo, emoji_path=path, **kw).tobytes()


def test_overlay_emoji_from_a_linked_folder_and_an_unreadable_emoji(tmp_path, materials, photo):
    from vsc_assets.augment.materials import list_materials

    real = materials.emoji_path(draws("overlay_emoji", materials, n=1)[0]["emoji"])
    folder = tmp_path / "emoji"
    folder.mkdir()
    (folder / "linked.png").symlink_to(real)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    linked = list_materials(None, materials.pool[0].parent, emoji_dir=folder)
    assert {linked.emoji_name(p) for p in linked.emoji} == {"linked.png", "broken.png"}
    params = {"emoji": "linked.png", "opacity": 1.0, "emoji_size": 0.5, "x_pos": 0.1, "y_pos": 0.1}
    with pytest.raises(AssertionError, match="Path is invalid|Image path"):
        augly_f.overlay_emoji(photo, emoji_path=str(folder / "linked.png"), **{k: params[k] for k in params if k != "emoji"})
    out, ctx = apply("overlay_emoji", photo, params, linked)
    assert out.tobytes() != photo.tobytes() and not ctx.fallbacks
    out, ctx = apply("overlay_emoji", photo, {**params, "emoji": "broken.png"}, linked)
    assert out.tobytes() == photo.tobytes()
    assert ctx.fallbacks[0]["family"] == "overlay_emoji" and "broken.png" in ctx.fallbacks[0]["error"]


def test_overlay_text(materials, photo):
    ps = draws("overlay_text", materials)
    assert all(0 <= len(p["text"]) <= 20 and in_range(p["text"], 0, 99) for p in ps)
    assert in_range([p["font_size"] for p in ps], 0, 1) and in_range([p["opacity"] for p in ps], 0, 1)
    params = {**ps[0], "text": [1, 2, 3, 4], "opacity": 1.0, "font_size": 0.3, "color": [255, 0, 0], "font": "Raleway-ExtraBold.ttf"}
    out, ctx = apply("overlay_text", photo, params, materials)
    assert out.tobytes() != photo.tobytes() and not ctx.fallbacks


def test_overlay_text_tiny_font_size_is_clamped_not_raised(materials, photo):
    # The published crash on current Pillow: int(min(w, h) * font_size) == 0.
    with pytest.raises(ValueError, match="font size must be greater than 0"):
        augly_f.overlay_text(photo, text=[1, 2], font_size=0.001)
    params = {"text": [1, 2], "font": materials.fonts[0].name, "color": [0, 0, 0], "opacity": 1.0, "font_size": 0.001, "x_pos": 0.1, "y_pos": 0.1}
    out, ctx = apply("overlay_text", photo, params, materials)
    assert out.size == photo.size
    assert ctx.fallbacks == [{"family": "overlay_text", "reason": "font size below one pixel, raised to 1 px", "font_size_px": 1}]


def test_overlay_text_control_character_font_lists(materials, photo):
    # OstrichSans' character list starts with U+000D; alone it breaks libraqm's layout.
    name = "OstrichSans-Black.ttf"
    if name not in {f.name for f in materials.fonts}:
        pytest.fail(f"AugLy's bundled {name} is expected among the fonts")
    params = {"text": [0], "font": name, "color": [0, 0, 0], "opacity": 1.0, "font_size": 0.5, "x_pos": 0.1, "y_pos": 0.1}
    out, ctx = apply("overlay_text", photo, params, materials)
    assert out.size == photo.size
    assert ctx.fallbacks[0]["reason"] == "control characters dropped from the text"


def test_overlay_text_unreadable_font_is_a_recorded_fallback(tmp_path, materials, photo):
    from dataclasses import replace

    broken = tmp_path / "Broken.ttf"
    broken.write_bytes(b"not a font at all")
    broken.with_suffix(".pkl").write_bytes(__import__("pickle").dumps([65, 66, 67]))
    custom = replace(materials, fonts=(broken,))
    params = {"text": [0, 1], "font": "Broken.ttf", "color": [0, 0, 0], "opacity": 1.0, "font_size": 0.5, "x_pos": 0.1, "y_pos": 0.1}
    out, ctx = apply("overlay_text", photo, params, custom)
    assert out.tobytes() == photo.tobytes()
    assert len(ctx.fallbacks) == 1 and ctx.fallbacks[0]["reason"].startswith("font cannot be read")
    assert ctx.fallbacks[0]["font"] == "Broken.ttf"


def test_overlay_text_raster_overflow_halves_the_size_until_it_renders(monkeypatch, materials, photo):
    # FreeType's "raster overflow" (the published crash) can't be provoked on demand with
    # FreeType 2.14, so our own renderer stands in for it above 20 px.
    real = typesetting._overlay_text_pixels

    def overflowing(img, p, text, font_path, size_px):
        if size_px > 20:
            raise OSError("raster overflow")
        return real(img, p, text, font_path, size_px)

    monkeypatch.setattr(typesetting, "_overlay_text_pixels", overflowing)
    params = {"text": [1, 2, 3], "font": "Raleway-ExtraBold.ttf", "color": [255, 0, 0], "opacity": 1.0, "font_size": 0.5, "x_pos": 0.1, "y_pos": 0.1}
    out, ctx = apply("overlay_text", photo, params, materials)
    assert out.tobytes() != photo.tobytes()  # drawn, smaller
    sizes = [f["font_size_px"] for f in ctx.fallbacks]
    assert sizes == [60, 30, 15] and all(f["reason"] == "raster overflow; font size halved" for f in ctx.fallbacks)


def test_perspective(materials, photo):
    ps = draws("perspective", materials)
    assert in_range([p["sigma"] for p in ps], 10, 50)
    # AugLy 1.0.0's own perspective_transform uses np.float, gone since NumPy 1.24
    with pytest.raises(AttributeError):
        augly_f.perspective_transform(photo, sigma=20.0)
    a, _ = apply("perspective", photo, {"sigma": 30.0, "seed": 1}, materials, randomness="per_image")
    b, _ = apply("perspective", photo, {"sigma": 30.0, "seed": 2}, materials, randomness="per_image")
    assert a.size == photo.size and a.tobytes() != b.tobytes()
    c, _ = apply("perspective", photo, {"sigma": 30.0, "seed": 1}, materials)
    d, _ = apply("perspective", photo, {"sigma": 30.0, "seed": 2}, materials)
    assert c.tobytes() == d.tobytes()  # published: the seed drawn is not used, the warp is AugLy's seed-42 one


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix, as AugLy wrote it
def test_perspective_published_is_augly_perspective_transform_with_its_default_seed(materials, photo):
    """AugLy 1.0's steps written out here, as its own function can't run on NumPy >= 1.24:
    RandomState(42), corner by corner, x then y; coefficients by its normal equations."""
    for sigma in (10.0, 23.5, 50.0):
        rng = np.random.RandomState(42)
        w, h = photo.size
        src = [(0, 0), (w, 0), (w, h), (0, h)]
        dst = [(rng.normal(x, sigma) + 0, rng.normal(y, sigma) + 0) for x, y in src]
        rows = []
        for sc, dc in zip(src, dst):
            rows.append([dc[0], dc[1], 1, 0, 0, 0, -sc[0] * dc[0], -sc[0] * dc[1]])
            rows.append([0, 0, 0, dc[0], dc[1], 1, -sc[1] * dc[0], -sc[1] * dc[1]])
        A = np.matrix(rows, dtype=np.float64)
        coeffs = np.array(np.dot(np.linalg.inv(A.T * A) * A.T, np.array(src).reshape(8))).reshape(8)
        expected = photo.transform((w, h), Image.PERSPECTIVE, coeffs, Image.BICUBIC)
        ours, _ = apply("perspective", photo, {"sigma": sigma, "seed": 9}, materials)
        assert ours.tobytes() == expected.tobytes()


def test_perspective_coefficients_map_corners():
    src = [(0, 0), (100, 0), (100, 50), (0, 50)]
    dst = [(5, -3), (97, 4), (110, 60), (-8, 45)]
    c = _perspective_coeffs(src, dst)
    for (x, y), (u, v) in zip(dst, src):
        w = c[6] * x + c[7] * y + 1
        assert abs((c[0] * x + c[1] * y + c[2]) / w - u) < 1e-6
        assert abs((c[3] * x + c[4] * y + c[5]) / w - v) < 1e-6


def test_overlay_onto_image(materials, photo):
    ps = draws("overlay_onto_image", materials)
    assert in_range([p["opacity"] for p in ps], 0.6, 1) and in_range([p["overlay_size"] for p in ps], 0.5, 1)
    out, _ = apply("overlay_onto_image", photo, ps[0], materials)
    assert out.size == (256, 256)
    skinny, ctx = apply("overlay_onto_image", Image.new("RGB", (1, 500)), {**ps[0], "overlay_size": 0.5}, materials)
    assert skinny.size == (256, 256) and ctx.fallbacks


def test_stack(materials, photo):
    ps = draws("stack", materials)
    assert {p["order"] for p in ps} == {0, 1} and {p["direction"] for p in ps} == {0, 1}
    out, _ = apply("stack", photo, {**ps[0], "order": 0, "direction": 0}, materials)
    left = np.asarray(out)[:, :128]
    expected = np.asarray(photo.resize((256, 256), Image.BICUBIC).resize((128, 256), Image.BICUBIC))
    assert np.abs(left.astype(int) - expected.astype(int)).mean() < 8


def test_pool_image_that_cannot_be_read_is_replaced_and_recorded(tmp_path, materials, photo):
    from dataclasses import replace

    bad = tmp_path / "T000009.jpg"
    bad.write_bytes(b"\xff\xd8\xff garbage")
    custom = replace(materials, pool=(bad,))
    out, ctx = apply("stack", photo, {"pool_image": "T000009.jpg", "order": 0, "direction": 1}, custom)
    assert out.size == (256, 256)
    assert ctx.fallbacks[0]["pool_image"] == "T000009.jpg" and "not a recognised image" in ctx.fallbacks[0]["error"]
