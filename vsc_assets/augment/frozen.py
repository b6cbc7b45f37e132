"""The published recipe's frozen randomness, reproduced draw for draw (docs/recipe.md, "Frozen randomness").

The published scripts call AugLy's random_noise, shuffle_pixels and
perspective_transform without a seed, so AugLy's defaults apply: 42, 10 and
42, from NumPy's legacy generator. Every image of one shape therefore gets the
same noise field, every image of one shape and factor the same shuffled
pixels, and every perspective warp the same shape scaled by sigma. Here each
is drawn from its own ``RandomState``, never NumPy's global one.

Because the draws depend only on the shape, they are kept per shape, within a
byte budget: most noise and shuffles run after a family has resized to 256.
A kept draw gives the same bytes as drawing again (the cache is checked
against a fresh draw once per process before it is trusted).
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from vsc_assets.augment.bands import row_bands

NOISE_SEED = 42  # AugLy random_noise's default
SHUFFLE_SEED = 10  # AugLy shuffle_pixels's default
PERSPECTIVE_SEED = 42  # AugLy perspective_transform's default
CACHE_BYTES = 24 * 2**20  # per cache, per process


class _Kept:
    """Values by key, the least recently used dropped beyond ``budget`` bytes."""

    def __init__(self, budget: int = CACHE_BYTES):
        self.budget = budget
        self.items: OrderedDict = OrderedDict()  # key -> (value, bytes)

    def get(self, key):
        found = self.items.get(key)
        if found is None:
            return None
        self.items.move_to_end(key)
        return found[0]

    def put(self, key, value, size: int) -> None:
        if size > self.budget:
            return
        self.items[key] = (value, size)
        while sum(n for _, n in self.items.values()) > self.budget:
            self.items.popitem(last=False)


_NOISE = _Kept()
_SHUFFLE = _Kept()
_kept_noise_is_exact: bool | None = None


def _noise_keeping_is_exact() -> bool:
    """Whether ``mean + sigma * z`` from a kept standard-normal field gives the very bytes of
    ``RandomState(42).normal(mean, sigma, shape)`` on this machine (it does where NumPy's C code
    computes loc + scale * gauss without a fused multiply-add)."""
    global _kept_noise_is_exact
    if _kept_noise_is_exact is None:
        shape = (5, 7, 3)
        z = np.random.RandomState(NOISE_SEED).standard_normal(shape)
        _kept_noise_is_exact = all(
            np.array_equal(np.random.RandomState(NOISE_SEED).normal(mean, var**0.5, shape), mean + var**0.5 * z)
            for mean, var in ((0.0, 0.01), (0.3141, 0.2718), (0.4999, 0.4999))
        )
    return _kept_noise_is_exact


def _noisy(rows: np.ndarray, gauss: np.ndarray) -> np.ndarray:
    # AugLy: the image as float32 / 255, plus the float64 noise, clipped to [0, 1], times 255, truncated.
    noisy = rows.astype(np.float32) / 255.0 + gauss
    np.clip(noisy, 0.0, 1.0, out=noisy)
    noisy *= 255.0
    return noisy.astype(np.uint8)


def noise(arr: np.ndarray, mean: float, var: float) -> np.ndarray:
    """AugLy 1.0's random_noise with its default seed, on a uint8 array; returns the new array."""
    sigma = var**0.5  # as AugLy computes it
    shape = arr.shape
    if _noise_keeping_is_exact() and arr.size * 8 <= CACHE_BYTES:
        z = _NOISE.get(shape)
        if z is None:
            z = np.random.RandomState(NOISE_SEED).standard_normal(shape)
            _NOISE.put(shape, z, z.nbytes)
        return _noisy(arr, mean + sigma * z)
    # Large images: the same draws in row bands, so the float64 field (192 MB at 8 Mpx) is never whole.
    rng = np.random.RandomState(NOISE_SEED)
    out = np.empty_like(arr)
    for rows in row_bands(shape[0], arr[0].size):
        part = arr[rows]
        out[rows] = _noisy(part, rng.normal(mean, sigma, part.shape))
    return out


# A field of at most this many values (a 256x256 RGB image, which most noise meets) is drawn as
# AugLy draws it and kept; the production path takes a larger one from a table of normal draws.
EXACT_VALUES = 256 * 256 * 3
TABLE_VALUES = 2**23  # float32 standard normals, 32 MB: a field of up to 2.8 Mpx RGB is one slice
_table: np.ndarray | None = None


def normal_table() -> np.ndarray:
    """Standard normal draws made once per process (PCG64, seeded), read-only."""
    global _table
    if _table is None:
        _table = np.random.Generator(np.random.PCG64([NOISE_SEED, TABLE_VALUES])).standard_normal(
            TABLE_VALUES, dtype=np.float32
        )
        _table.flags.writeable = False
    return _table


def frozen_field(shape: tuple[int, ...]) -> np.ndarray | None:
    """The production path's frozen field for a shape: one contiguous slice of the normal table,
    where it starts drawn from PCG64 seeded by the shape; None when the field is larger than it."""
    values = math.prod(shape)
    if values > TABLE_VALUES:
        return None
    start = int(np.random.Generator(np.random.PCG64([NOISE_SEED, *shape])).integers(0, TABLE_VALUES - values + 1))
    return normal_table()[start : start + values].reshape(shape)


def fast_noise(arr: np.ndarray, mean: float, var: float) -> np.ndarray:
    """The production path's frozen noise: AugLy's own field where the image is 256x256 or
    smaller (never because a field happens to be kept: the bytes must not depend on what the
    process made before); otherwise a field that is just as frozen (one per shape), a slice of
    a table of normal draws (past the table's size, drawn from PCG64 seeded by the shape),
    added in float32.

    Above 256x256 an image's shape is nearly its own, so which frozen field it gets does not
    show in what the set looks like; ``vsc-assets bench --fidelity`` measures that it does not.
    """
    if arr.size <= EXACT_VALUES:
        return noise(arr, mean, var)
    sigma, out = np.float32(var**0.5), np.empty_like(arr)
    z = frozen_field(arr.shape)
    rng = None if z is not None else np.random.Generator(np.random.PCG64([NOISE_SEED, *arr.shape]))
    for rows in row_bands(arr.shape[0], arr[0].size):
        part = arr[rows]
        field = z[rows] if z is not None else rng.standard_normal(part.shape, dtype=np.float32)
        noisy = part.astype(np.float32)
        noisy *= np.float32(1 / 255)
        noisy += np.float32(mean)
        noisy += sigma * field
        np.clip(noisy, 0.0, 1.0, out=noisy)
        noisy *= np.float32(255)
        out[rows] = noisy
    return out


def shuffled_pixels(count_pixels: int, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """(which pixels, where each takes its new value from) as AugLy 1.0's shuffle_pixels draws
    them with its default seed.

    ``np.random.choice(n, k, replace=False)`` is ``permutation(n)[:k]`` in the legacy generator,
    and shuffling the k picked rows applies the next ``permutation(k)``. The first depends on the
    image's size alone, so it is kept, with the generator's state after it; only the second,
    which depends on k, is drawn each time.
    """
    count = int(factor * count_pixels)
    kept = _SHUFFLE.get(count_pixels)
    if kept is None:
        rng = np.random.RandomState(SHUFFLE_SEED)
        order = rng.permutation(count_pixels).astype(np.int32 if count_pixels < 2**31 else np.int64)
        kept = (order, rng.get_state())
        _SHUFFLE.put(count_pixels, kept, order.nbytes)
    order, state = kept
    rng = np.random.RandomState()
    rng.set_state(state)
    mask = order[:count]
    return mask, mask[rng.permutation(count)]


def shuffle_rows(arr: np.ndarray, mask: np.ndarray, source: np.ndarray) -> np.ndarray:
    """A copy of an H x W x C image whose pixel ``mask[i]`` takes the value of pixel ``source[i]``.

    Each pixel is moved as one C-byte item (one gather and one scatter), not channel by channel.
    """
    height, width, channels = arr.shape
    items = np.ascontiguousarray(arr).reshape(height * width, channels).view(np.dtype((np.void, channels))).ravel()
    out = items.copy()
    out[mask] = items[source]
    return out.view(np.uint8).reshape(arr.shape)


def shuffle(arr: np.ndarray, factor: float) -> np.ndarray:
    """AugLy 1.0's shuffle_pixels with its default seed, on an H x W x C uint8 array; returns a new array."""
    height, width = arr.shape[:2]
    return shuffle_rows(arr, *shuffled_pixels(height * width, factor))


def fast_shuffle(arr: np.ndarray, factor: float) -> np.ndarray:
    """The production path's frozen shuffle: AugLy's own where the image is 256x256 or smaller
    (whatever the process keeps); otherwise pixels picked and permuted just as frozen (the same
    for one shape and factor) by a faster generator, PCG64 seeded by the size and the count."""
    height, width = arr.shape[:2]
    pixels = height * width
    if pixels <= EXACT_VALUES // 3:
        return shuffle(arr, factor)
    count = int(factor * pixels)
    rng = np.random.Generator(np.random.PCG64([SHUFFLE_SEED, pixels, count]))
    # A uniform choice of ``count`` pixels (NumPy swaps only that many into place), then a
    # uniform permutation among them, as AugLy's.
    mask = rng.choice(pixels, count, replace=False, shuffle=False)
    return shuffle_rows(arr, mask, mask[rng.permutation(count)])


def perspective_corners(width: int, height: int, sigma: float) -> list[tuple[float, float]]:
    """AugLy 1.0's perspective_transform with its default seed: each corner plus N(0, sigma),
    drawn x then y, corner by corner, from ``RandomState(42)``."""
    rng = np.random.RandomState(PERSPECTIVE_SEED)
    corners = [(0, 0), (width, 0), (width, height), (0, height)]
    return [(rng.normal(x, sigma) + 0.0, rng.normal(y, sigma) + 0.0) for x, y in corners]


def perspective_coefficients(src, dst) -> list[float]:
    """AugLy's own compute_transform_coeffs: the normal equations, in float64, in its order of products."""
    matrix = []
    for sc, dc in zip(src, dst):
        matrix.append([dc[0], dc[1], 1, 0, 0, 0, -sc[0] * dc[0], -sc[0] * dc[1]])
        matrix.append([0, 0, 0, dc[0], dc[1], 1, -sc[1] * dc[0], -sc[1] * dc[1]])
    a = np.array(matrix, dtype=np.float64)
    b = np.array(src).reshape(8)
    # np.matrix's products are np.dot: (inv(A'A) A') B, associated as AugLy writes it.
    return [float(c) for c in np.dot(np.dot(np.linalg.inv(np.dot(a.T, a)), a.T), b)]
