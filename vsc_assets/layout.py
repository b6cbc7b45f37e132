"""Every location derives from one data root, in the published scripts' layout."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROOT = "./vsc-data"


def resolve_root(explicit: str | os.PathLike | None = None) -> Path:
    """--root, else $VSC_ROOT, else ./vsc-data; read when called, never at import."""
    value = explicit or os.environ.get("VSC_ROOT") or DEFAULT_ROOT
    return Path(value).expanduser().resolve()


@dataclass(frozen=True)
class Layout:
    root: Path

    # inputs
    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def disc21_dir(self) -> Path:
        return self.data_dir / "training_images"

    @property
    def pool_dir(self) -> Path:
        return self.data_dir / "training_images_9"

    @property
    def fonts_dir(self) -> Path:
        return self.data_dir / "fonts"

    @property
    def emoji_dir(self) -> Path:
        return self.data_dir / "emoji"

    # outputs
    @property
    def images_dir(self) -> Path:
        return self.root / "images"

    def set_dir(self, set_name: str) -> Path:
        """images/<set>/<set>/: the training code joins the name onto a root ending in it."""
        return self.images_dir / set_name / set_name

    def manifest_path(self, set_name: str, partition_key: str) -> Path:
        return self.images_dir / set_name / "_manifests" / f"{partition_key}.parquet"

    def preview_path(self, set_name: str, partition_key: str) -> Path:
        return self.images_dir / set_name / "_previews" / f"{partition_key}.png"

    # the Dagster instance
    @property
    def dagster_home(self) -> Path:
        env = os.environ.get("DAGSTER_HOME")
        return Path(env) if env else self.root / ".dagster"
