"""The Dagster instance under the root, and the partition keys registered in it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from vsc_assets.catalog.artifacts import CATALOG, Catalog
from vsc_assets.constants import DEFAULT_SOURCES_PER_PARTITION, DEFAULT_VIDEOS_PER_PARTITION
from vsc_assets.keys import keys_to_add
from vsc_assets.layout import Layout

PACKAGE = Path(__file__).resolve().parent.parent
SHIPPED_INSTANCE_CONFIG = PACKAGE / "dagster.yaml"
CLUSTER_INSTANCE_CONFIG = PACKAGE / "cluster" / "dagster.yaml"


def open_instance(layout: Layout) -> dg.DagsterInstance:
    """The instance at $DAGSTER_HOME, else <root>/.dagster (SQLite) or, for a cluster,
    <root>/.dagster-cluster (Postgres); created on first use from the shipped config."""
    home = layout.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_bytes((CLUSTER_INSTANCE_CONFIG if layout.cluster else SHIPPED_INSTANCE_CONFIG).read_bytes())
    return dg.DagsterInstance.from_config(str(home))


def register_partitions(
    instance: dg.DagsterInstance,
    layout: Layout,
    sources_per_partition: int = DEFAULT_SOURCES_PER_PARTITION,
    videos_per_partition: int = DEFAULT_VIDEOS_PER_PARTITION,
    catalog: Catalog = CATALOG,
) -> dict[str, list[str]]:
    """Add keys for ids not yet covered; returns the keys added per partitions definition."""
    sizes = {"sources_per_partition": sources_per_partition, "videos_per_partition": videos_per_partition}
    added = {}
    for partitioning in catalog.partitionings:
        name = partitioning.name
        new = keys_to_add(partitioning.ids(layout), list(instance.get_dynamic_partitions(name)), sizes[partitioning.size_setting])
        if new:
            instance.add_dynamic_partitions(name, new)
        added[name] = new
    return added
