"""Partitions that follow the data: ranges of ids, registered as data arrives (catalog.artifacts)."""

from __future__ import annotations

import dagster as dg

from vsc_assets.catalog.artifacts import Partitioning


def partitions_def(partitioning: Partitioning | None) -> dg.DynamicPartitionsDefinition | None:
    """The dynamic partitions definition a declared partitioning names; None when unpartitioned."""
    return None if partitioning is None else dg.DynamicPartitionsDefinition(name=partitioning.name)
