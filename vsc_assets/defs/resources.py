"""The one resource every asset takes: where the data lives and how to run."""


import dagster as dg
from pydantic import Field

from vsc_assets.constants import DEFAULT_BASE_SEED
from vsc_assets.layout import Layout, resolve_root
from vsc_assets.parallel import default_workers


class VscRoot(dg.ConfigurableResource):
    """All paths derive from ``root``; empty means $VSC_ROOT, else ./vsc-data (read at run time)."""

    root: str = Field(default="", description="Data root; empty: $VSC_ROOT or ./vsc-data")
    base_seed: int = Field(default=DEFAULT_BASE_SEED, description="Base seed of every augmented file")
    workers: int = Field(default=0, description="Worker processes inside one run; 0: all cores")

    def layout(self) -> Layout:
        return Layout(resolve_root(self.root or None))

    def worker_count(self) -> int:
        return self.workers if self.workers > 0 else default_workers()
