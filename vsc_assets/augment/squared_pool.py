"""The production path's pool images at 256x256, kept on disk between chains, workers and runs.

image_opaque, stack and overlay_onto_image use a pool image only at 256x256 on
the production path. Decoding the pool JPEG and shrinking it costs about as
much as the rest of such a family, and across a set every pool image is drawn
by hundreds of chains. So the first chain that makes one keeps its exact pixels
here, and the others read them back. Keeping them changes no output: the file
holds the bytes the production path would make again.

A file is found by the pool image's path, size and modification time, and by
the versions of what made it (Pillow's decoder, libvips' resize, this method),
so a replaced image or an upgraded library gets a new file. The folder may be
deleted at any time; it costs 196 KB per pool image used.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import PIL
import pyvips
from PIL import Image

from vsc_assets.constants import OUTPUT_SIZE
from vsc_assets.io.atomic import write_bytes_atomic

SIZE = (OUTPUT_SIZE, OUTPUT_SIZE)
RAW_BYTES = OUTPUT_SIZE * OUTPUT_SIZE * 3
# Change when the production path's pool square changes (families/base.pool_square: the
# draft decode of load_pool_image and kernels.square), so files made the old way are not read.
METHOD = "draft-at-least-256+square-1"


@functools.cache
def method_tag() -> str:
    vips = ".".join(str(pyvips.version(i)) for i in range(3))
    return f"{METHOD}_pillow-{PIL.__version__}_libvips-{vips}"


@dataclass(frozen=True)
class SquaredPool:
    folder: Path

    def file_for(self, path: Path) -> Path | None:
        """Where the 256x256 image of the pool image at ``path`` is kept; None if that can't be read."""
        try:
            st = os.stat(path)
        except OSError:
            return None  # the caller's decode reports why
        key = f"{method_tag()}\0{os.path.abspath(path)}\0{st.st_size}\0{st.st_mtime_ns}"
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self.folder / digest[:2] / f"{digest[2:34]}.rgb"

    def read(self, file: Path) -> Image.Image | None:
        """The image kept in ``file``, or None (never made, or unusable)."""
        try:
            data = file.read_bytes()
        except OSError:
            return None
        if len(data) != RAW_BYTES:
            return None  # not ours, or cut short: made again, and replaced
        return Image.frombytes("RGB", SIZE, data)

    def keep(self, file: Path, image: Image.Image) -> None:
        """Keep ``image`` in ``file``, written whole or not at all. A folder that can't be written
        only costs speed."""
        if image.size != SIZE or image.mode != "RGB":
            return
        try:
            write_bytes_atomic(file, image.tobytes(), make_parents=True)
        except OSError:
            pass
