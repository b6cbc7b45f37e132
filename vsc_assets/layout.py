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
    cluster: bool = False  # the instance is the shared Postgres one (vsc_assets/cluster/dagster.yaml)

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

    # VSC inputs
    @property
    def train_dir(self) -> Path:
        return self.data_dir / "train"

    def videos_dir(self, kind: str) -> Path:
        """kind: 'query' or 'reference'."""
        return self.train_dir / kind

    @property
    def ground_truth(self) -> Path:
        return self.train_dir / "train_matching_ground_truth.csv"

    # VSC outputs
    def frames_dir(self, kind: str) -> Path:
        """train/{kind}_one_second_imageio_v3/: the folder the published downstream scripts read."""
        return self.train_dir / f"{kind}_one_second_imageio_v3"

    def old_frames_dir(self, kind: str) -> Path:
        """Where frames were written before the published folder names were adopted."""
        return self.train_dir / f"{kind}_one_second"

    @property
    def selected_frames_dir(self) -> Path:
        return self.data_dir / "training_images_ref1"

    @property
    def pairs_dir(self) -> Path:
        return self.data_dir / "pull_gt_all_shuffle"

    def pair_frames_dir(self, partition_key: str) -> Path:
        """Frames of the pairs of one query partition, before numbering and shuffling."""
        return self.data_dir / "pull_gt_pair_frames" / partition_key

    # bookkeeping: one Parquet manifest and one preview per asset partition
    def manifests_dir(self, asset: str) -> Path:
        return self.root / "manifests" / asset

    def manifest_path(self, asset: str, partition_key: str) -> Path:
        return self.manifests_dir(asset) / f"{partition_key}.parquet"

    def preview_path(self, asset: str, partition_key: str) -> Path:
        return self.root / "previews" / asset / f"{partition_key}.jpg"

    # what the platform keeps for itself: the input index, and each partition's temp files
    def index_path(self, folder_label: str) -> Path:
        return self.root / "index" / f"{folder_label}.parquet"

    @property
    def partition_sizes_path(self) -> Path:
        """How many ids each partitioning's keys cover, as chosen when the root's first keys were made."""
        return self.root / "index" / "partition_sizes.json"

    @property
    def squared_pool_dir(self) -> Path:
        """Pool images at 256x256 as the production path made them (augment/squared_pool.py)."""
        return self.root / "cache" / "pool-256"

    def staging_dir(self, asset: str, partition_key: str) -> Path:
        """A partition's temp files, renamed into the shared output folder when whole."""
        return self.root / ".staging" / asset / partition_key

    # the Dagster instance
    @property
    def dagster_home(self) -> Path:
        env = os.environ.get("DAGSTER_HOME")
        return Path(env) if env else self.root / (".dagster-cluster" if self.cluster else ".dagster")
