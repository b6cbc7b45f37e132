"""The production kernels: each against the recipe's own apply, and the byte-identical ones to the byte."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import ImageEnhance, ImageFilter

from vsc_assets.augment import frozen, kernels
from vsc_assets.augment.families import FAMILIES, REGISTRY, ChainContext
from vsc_assets.augment.families.colour import _brightness, _contrast, _shift_hue
from vsc_assets.bench.kernels import run_kernels
from vsc_assets.demo.images import demo_image

FAST = [f.name for f in REGISTRY if f.fast is not None]


@pytest.fixture(scope="module")
def photos():
    return [demo_image(i).convert("RGB").resize(size) for i, size in ((1, (640, 480)), (5, (512, 700)), (9, (256, 256)))]


@pytest.mark.parametrize("name", FAST)
def test_each_kernel_is_the_family_within_a_few_levels_on_average(name, materials, photos):
    """Close, not equal: whether it can be told apart is the fidelity benchmark's question."""
    family = FAMILIES[name]
    rng = np.random.default_rng(11)
    reference, production = ChainContext(materials, reference=True), ChainContext(materials)
    for img in photos:
        for _ in range(3):
            params = family.sample(rng, production)
            a = family.apply(img, params, reference)
            b = family.run(img, params, production)
            assert a.size == b.size and a.mode == b.mode == "RGB"
            d = np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16))
            if name not in ("noise", "shuffle_pixels"):  # above 256x256 the frozen draws differ (see below)
                assert d.mean() < 6.0, (name, params, d.mean())


def test_the_reference_context_never_runs_a_kernel(materials, photos):
    reference = ChainContext(materials, reference=True)
    rng = np.random.default_rng(2)
    for name in FAST:
        params = FAMILIES[name].sample(rng, reference)
        assert FAMILIES[name].run(photos[0], params, reference).tobytes() == FAMILIES[name].apply(photos[0], params, reference).tobytes()


def test_brightness_and_contrast_tables_are_imageenhance_to_the_byte(photos):
    rng = np.random.default_rng(3)
    for img in photos:
        for factor in [0.0, 1.0, *rng.uniform(0, 5, 6)]:
            assert _brightness(img, float(factor)).tobytes() == ImageEnhance.Brightness(img).enhance(float(factor)).tobytes()
            assert _contrast(img, float(factor)).tobytes() == ImageEnhance.Contrast(img).enhance(float(factor)).tobytes()


def test_hue_back_from_hsv_by_opencv_is_within_a_level(photos):
    for img in photos:
        for shift in (0, 40, 200):
            d = np.abs(np.asarray(_shift_hue(img, shift / 255), dtype=int) - np.asarray(kernels.hue_shift(img, shift), dtype=int))
            assert d.max() <= 1 and (d > 0).mean() < 1e-3


def test_blur_and_sharpen_kernels_are_pillow_within_a_level_a_pass(photos):
    for img in photos:
        for radius in (2.0, 3.3, 5.0):
            d = np.abs(np.asarray(img.filter(ImageFilter.GaussianBlur(radius)), dtype=int) - np.asarray(kernels.box_blur(img, radius), dtype=int))
            assert d.max() <= 3
        for factor in (2.0, 11.0, 20.0):
            d = np.abs(np.asarray(ImageEnhance.Sharpness(img).enhance(factor), dtype=int) - np.asarray(kernels.sharpen(img, factor), dtype=int))
            assert d.max() <= 1


def test_frozen_fast_noise_and_shuffle_stay_frozen_per_shape(photos):
    a, b = photos[0], demo_image(7).convert("RGB").resize(photos[0].size)
    deltas = [frozen.fast_noise(np.asarray(x), 0.0, 0.05).astype(int) - np.asarray(x, dtype=int) for x in (a, b)]
    assert np.mean(deltas[0] == deltas[1]) > 0.5  # one field per shape, as the published recipe's
    grid = np.arange(np.prod(a.size), dtype=np.uint32).reshape(a.height, a.width)
    numbered = np.stack([grid & 255, (grid >> 8) & 255, grid >> 16], axis=-1).astype(np.uint8)
    moved = frozen.fast_shuffle(numbered, 0.3)
    assert np.array_equal(moved, frozen.fast_shuffle(numbered.copy(), 0.3))  # the same pixels move the same way
    changed = np.any(moved != numbered, axis=-1).mean()
    assert 0.25 < changed <= 0.3 and sorted(map(tuple, moved.reshape(-1, 3))) == sorted(map(tuple, numbered.reshape(-1, 3)))


def test_frozen_fields_above_256_are_slices_of_one_normal_table_chosen_by_shape():
    table = frozen.normal_table()
    assert abs(float(table.mean())) < 2e-3 and abs(float(table.std()) - 1) < 2e-3
    field = frozen.frozen_field((480, 640, 3))
    assert np.shares_memory(field, table) and np.array_equal(field, frozen.frozen_field((480, 640, 3)))
    assert not np.array_equal(field[:100], frozen.frozen_field((481, 640, 3))[:100])  # another shape, another slice
    assert frozen.frozen_field((1, 1, frozen.TABLE_VALUES + 1)) is None  # past the table: drawn instead
    with pytest.raises(ValueError):
        table[0] = 0.0  # nothing may write into the table its fields are views of


def test_frozen_production_fields_do_not_depend_on_what_the_process_made_before():
    """A partition must come out the same in any worker: AugLy's exact draws for this size, kept
    because something else made them, must not change what the production path gives."""
    arr = np.asarray(demo_image(3).convert("RGB").resize((333, 222)))
    noisy, moved = frozen.fast_noise(arr, 0.1, 0.02), frozen.fast_shuffle(arr, 0.2)
    frozen.noise(arr, 0.1, 0.02), frozen.shuffle(arr, 0.2)  # the recipe's own draws for this shape, now kept
    assert np.array_equal(frozen.fast_noise(arr, 0.1, 0.02), noisy)
    assert np.array_equal(frozen.fast_shuffle(arr, 0.2), moved)


def test_image_opaque_kernel_is_augly_overlay_to_the_byte(materials):
    family, ctx = FAMILIES["image_opaque"], ChainContext(materials)
    rng = np.random.default_rng(8)
    for i in range(12):
        img = demo_image(i).convert("RGB")
        params = family.sample(rng, ctx)
        assert family.fast(img, params, ctx).tobytes() == family.apply(img, params, ctx).tobytes(), params


def test_shuffle_rows_moves_whole_pixels():
    arr = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    mask, source = np.array([0, 7, 19], np.int32), np.array([19, 0, 7], np.int32)
    expected = arr.reshape(-1, 3).copy()
    expected[mask] = arr.reshape(-1, 3)[source]
    assert np.array_equal(frozen.shuffle_rows(arr, mask, source), expected.reshape(arr.shape))


def test_kernel_bench_reports_every_kernel_and_the_frozen_ones_identical():
    rows = run_kernels(photos=3, echo=lambda line: None)["kernels"]
    assert set(FAST) <= set(rows)
    for name in ("noise (published, against AugLy's own)", "shuffle_pixels (published, against AugLy's own)"):
        assert rows[name]["identical"] == rows[name]["cases"] > 0
    assert all(row["speedup"] > 0 for row in rows.values())


KERNEL_DIGESTS = """
import hashlib, sys
import numpy as np
from PIL import Image
from vsc_assets.augment import kernels
from vsc_assets.augment.families import REGISTRY, ChainContext
from vsc_assets.demo.images import demo_image

photos = [demo_image(i).convert("RGB") for i in (1, 5)]
photos += [p.resize((256, 256)) for p in photos] + [photos[0].resize((120, 90))]
rng, ctx = np.random.default_rng(5), ChainContext(None)
for family in REGISTRY:
    if family.fast is None or family.name in ("image_opaque", "overlay_onto_image"):  # those that need the pool
        continue
    h = hashlib.sha256()
    for img in photos:
        for _ in range(2):
            h.update(np.asarray(family.fast(img, family.sample(rng, ctx), ctx)).tobytes())
    print(family.name, h.hexdigest())
h = hashlib.sha256()
for img in photos:
    h.update(np.asarray(kernels.square(img)).tobytes())
print("square", h.hexdigest())
"""


def test_kernels_give_the_same_bytes_whatever_vector_instructions_the_cpu_has():
    """Reruns must be byte-identical on every worker of a cluster, whatever its CPU. OpenCV and
    libvips pick their SIMD code when they start: run the kernels with it and without it."""
    import os
    import subprocess
    import sys

    plain = {**os.environ, "OPENCV_CPU_DISABLE": "AVX,AVX2,FMA3,AVX_512F,AVX512_SKX", "VIPS_NOVECTOR": "1"}
    runs = [
        subprocess.run([sys.executable, "-c", KERNEL_DIGESTS], env=env, capture_output=True, text=True, timeout=300, check=True).stdout
        for env in (os.environ, plain)
    ]
    assert runs[0].count("\n") >= 8, runs[0]
    assert runs[0] == runs[1], "\n".join(
        f"{a} != {b}" for a, b in zip(runs[0].splitlines(), runs[1].splitlines()) if a != b
    )


COPY_FREE = ("pad_square", "rotate", "pad", "vflip", "hflip", "skew", "grayscale", "encoding_quality")


@pytest.mark.parametrize("name", COPY_FREE)
def test_kernels_that_only_leave_out_augly_copies_are_its_apply_to_the_byte(name, materials, photos):
    # AugLy's functions end by converting their result to the mode it already has (a copy); these
    # kernels do the same Pillow calls without it. Same context on both sides: the same resize to 256.
    family, ctx = FAMILIES[name], ChainContext(materials)
    assert family.fast is not None
    rng = np.random.default_rng(13)
    for img in [*photos, photos[0].resize((5, 3))]:
        for _ in range(4):
            params = family.sample(rng, ctx)
            a, b = family.apply(img, params, ctx), family.fast(img, params, ctx)
            assert a.mode == b.mode == "RGB" and a.size == b.size, (name, params)
            assert a.tobytes() == b.tobytes(), (name, params)


def test_stripes_kernel_is_augly_overlay_stripes_to_the_byte_even_at_the_edges_of_its_range(materials, photos):
    # The mask is decided per pixel from its phase, and by AugLy's cosine only near a stripe's
    # edge: the same bytes for random draws, the special angles and widths near 0 and 1.
    family, ctx = FAMILIES["overlay_stripes"], ChainContext(materials)
    rng = np.random.default_rng(17)
    cases = [family.sample(rng, ctx) for _ in range(12)]
    cases += [
        {"line_width": width, "line_color": [200, 30, 90], "line_angle": angle, "line_density": density, "line_opacity": 0.6}
        for width in (0.0, 1e-12, 0.5, 1 - 1e-12, 1.0)
        for angle in (0, 45, 90, 180, 270, 360)
        for density in (0.3, 0.9999)
    ]
    for img in [photos[0], photos[2].resize((31, 17))]:
        for params in cases:
            assert family.apply(img, params, ctx).tobytes() == family.fast(img, params, ctx).tobytes(), params
