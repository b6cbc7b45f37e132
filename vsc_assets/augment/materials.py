"""The materials a chain draws from: the overlay pool, fonts and emoji, listed once per run,
then passed to workers.

Families refer to these by name (pool file name, font file name, emoji path
relative to the emoji folder), so a record stays meaningful on another machine.
"""

from __future__ import annotations

import functools
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from augly.utils import EMOJI_DIR, FONTS_DIR, MEME_DEFAULT_FONT
from PIL import Image, ImageFont

from vsc_assets.augment.squared_pool import SquaredPool
from vsc_assets.constants import OUTPUT_SIZE
from vsc_assets.errors import InputError
from vsc_assets.io.images import BadImageError, decoded_size, list_images, load_rgb

AUGLY_FONTS_DIR = Path(FONTS_DIR)
AUGLY_EMOJI_DIR = Path(EMOJI_DIR)
AUGLY_MEME_FONT = Path(MEME_DEFAULT_FONT)


@dataclass(frozen=True)
class FolderPool(Sequence):
    """Pool images of one folder, by name: a hundred thousand names cost one tuple of strings,
    not a path object each, to build and to send to every worker."""

    folder: Path
    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.folder / n for n in self.names[i]]
        return self.folder / self.names[i]


@dataclass(frozen=True)
class Materials:
    pool: Sequence[Path]  # a FolderPool, or any paths
    fonts: tuple[Path, ...]  # .ttf files that have their .pkl character list beside them
    emoji: tuple[Path, ...]
    emoji_dir: Path
    meme_default_font: Path = AUGLY_MEME_FONT
    squared_pool: SquaredPool | None = None  # where the production path keeps pool images at 256x256
    _pool_by_name: dict = field(default_factory=dict, init=False, compare=False, repr=False)
    _font_by_name: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self):
        if not self.pool:
            raise InputError("the overlay pool is empty: no image to overlay, stack or blend with")
        if not self.fonts:
            raise InputError("no usable font: need .ttf files with their .pkl character lists")
        if not self.emoji:
            raise InputError("no emoji PNG found")
        if not isinstance(self.pool, FolderPool):
            self._pool_by_name.update({p.name: p for p in self.pool})
        self._font_by_name.update({p.name: p for p in self.fonts})
        self._font_by_name.setdefault(self.meme_default_font.name, self.meme_default_font)

    def pool_path(self, name: str) -> Path:
        if isinstance(self.pool, FolderPool):
            return self.pool.folder / name
        return self._pool_by_name[name]

    def pool_decoded_size(self, name: str) -> tuple[int, int]:
        """A pool image's size as the recipe decodes it (EXIF-rotated; the grey stand-in's if unreadable)."""
        return decoded_size(self.pool_path(name)) or (OUTPUT_SIZE, OUTPUT_SIZE)

    def pool_size(self, name: str) -> tuple[int, int]:
        """A pool image's stored size, from its header (the grey stand-in's if unreadable)."""
        try:
            with Image.open(self.pool_path(name)) as im:
                return im.size
        except (OSError, ValueError, SyntaxError):
            return OUTPUT_SIZE, OUTPUT_SIZE

    def font_path(self, name: str) -> Path:
        return self._font_by_name[name]

    def emoji_path(self, rel: str) -> Path:
        return self.emoji_dir / rel

    def emoji_name(self, path: Path) -> str:
        return path.relative_to(self.emoji_dir).as_posix()


def _pngs_below(folder: Path) -> tuple[Path, ...]:
    """PNG files under ``folder``, following linked folders (a user's emoji folder may be links)."""
    found = []
    for dirpath, _, filenames in os.walk(folder, followlinks=True):
        found.extend(Path(dirpath) / f for f in filenames if f.lower().endswith(".png"))
    return tuple(sorted(found))


def list_fonts(folder: Path) -> tuple[Path, ...]:
    return tuple(
        p for p in sorted(folder.glob("*.ttf")) if p.with_suffix(".pkl").is_file()
    )


def list_materials(
    pool_dir: Path | None,
    disc21_dir: Path,
    fonts_dir: Path | None = None,
    emoji_dir: Path | None = None,
    pool: Sequence[Path] | None = None,
    squared_pool_dir: Path | None = None,
) -> Materials:
    """List everything once. Without a pool folder, the DISC21 images ending in 9 are the pool.

    ``pool``, when given, is that pool already listed (the platform keeps an index of big folders).
    ``squared_pool_dir``: where the production path may keep pool images at 256x256 (squared_pool.py).
    """
    if pool is None and pool_dir is not None and pool_dir.is_dir():
        pool = tuple(list_images(pool_dir))
    elif pool is None:
        pool = tuple(p for p in list_images(disc21_dir) if p.stem.endswith("9"))
    if not pool:
        raise InputError(
            f"the overlay pool is empty: no image in {pool_dir} and no DISC21 image ending in 9 in {disc21_dir}",
            f"put pool images in {pool_dir}, or DISC21 images whose name ends in 9 in {disc21_dir}",
        )
    fonts = list_fonts(fonts_dir) if fonts_dir is not None and fonts_dir.is_dir() else ()
    if not fonts:
        fonts = list_fonts(AUGLY_FONTS_DIR)
    if emoji_dir is None or not _pngs_below(emoji_dir):
        emoji_dir = AUGLY_EMOJI_DIR
    emoji = _pngs_below(emoji_dir)
    squared_pool = SquaredPool(squared_pool_dir) if squared_pool_dir is not None else None
    return Materials(pool=pool, fonts=fonts, emoji=emoji, emoji_dir=emoji_dir, squared_pool=squared_pool)


@functools.lru_cache(maxsize=64)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


@functools.lru_cache(maxsize=256)
def font_characters(path: str) -> tuple[int, ...]:
    with open(Path(path).with_suffix(".pkl"), "rb") as fh:
        return tuple(pickle.load(fh))


def load_pool_image(path: Path, at_least: int | None = None) -> tuple[Image.Image, str | None]:
    """A pool image as RGB at full resolution (or, for a JPEG, at a DCT scale that keeps both sides
    at least ``at_least``), or a mid-grey stand-in and the reason."""
    try:
        im, _ = load_rgb(path, at_least=at_least)
        return im, None
    except BadImageError as exc:
        return Image.new("RGB", (OUTPUT_SIZE, OUTPUT_SIZE), (128, 128, 128)), exc.reason


def load_emoji(path: Path) -> tuple[Image.Image | None, str | None]:
    """An emoji image as its file holds it (AugLy opens it the same way), or None and the reason."""
    try:
        with Image.open(path.resolve()) as im:
            im.load()
            return im.copy(), None
    except (OSError, ValueError, SyntaxError) as exc:
        return None, f"{path.name}: {type(exc).__name__}: {exc}"
