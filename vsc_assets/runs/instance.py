"""The Dagster instance under the root, and the partition keys registered in it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from vsc_assets.catalog.artifacts import CATALOG, Catalog
from vsc_assets.catalog.partition_sizes import Asked, new_keys
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
    instance: dg.DagsterInstance, layout: Layout, asked: Asked | None = None, catalog: Catalog = CATALOG
) -> dict[str, list[str]]:
    """Add keys for ids not yet covered, sized as the root's first keys were unless ``asked``
    (a unit, "sources" or "videos", to ids per new key); returns the keys added per partitions definition."""
    registered = {p.name: list(instance.get_dynamic_partitions(p.name)) for p in catalog.partitionings}
    added = new_keys(layout, registered, asked, catalog)
    for name, keys in added.items():
        if keys:
            instance.add_dynamic_partitions(name, keys)
    return added


def added_lines(added: dict[str, list[str]], shown: int = 5) -> list[str]:
    """What registering said, one line per partitions definition that got keys: how many, the first few."""
    return [
        f"registered {len(keys)} new {name} partition(s): {', '.join(keys[:shown])}{' ...' if len(keys) > shown else ''}"
        for name, keys in added.items()
        if keys
    ]
