"""What `vsc-assets materialize` will run: every selected partition that is missing, failed, or whose files are gone."""

from __future__ import annotations

from typing import Callable

import dagster as dg

from vsc_assets.builders.frames import adopt_old_frame_folders
from vsc_assets.catalog.artifacts import CATALOG, Catalog
from vsc_assets.constants import DEFAULT_SOURCES_PER_PARTITION, DEFAULT_VIDEOS_PER_PARTITION
from vsc_assets.layout import Layout
from vsc_assets.runs.instance import open_instance, register_partitions

Echo = Callable[[str], None]
Plan = dict[tuple, list[str]]  # (partitions definition or None, key or None) -> artifacts to (re)materialize


def plan_runs(instance: dg.DagsterInstance, layout: Layout, selection: list[str], catalog: Catalog = CATALOG) -> tuple[Plan, int]:
    """The plan, and how many asset partitions are complete already."""
    plan: Plan = {}
    complete = 0
    for name in catalog.ordered(selection):
        artifact = catalog[name]
        parents = set(artifact.deps)
        if artifact.partitioning is None:
            groups = [(None, None)]
            done: set = set()
            materialized = instance.get_latest_materialization_event(dg.AssetKey(name)) is not None
        else:
            pdef = artifact.partitioning.name
            groups = [(pdef, key) for key in instance.get_dynamic_partitions(pdef)]
            done = instance.get_materialized_partitions(dg.AssetKey(name))
        for group in groups:
            key = group[1]
            if key is None:  # downstream of every partition of its parents
                upstream = any(p in assets for assets in plan.values() for p in parents)
            else:
                upstream = any(p in plan.get(group, []) for p in parents)
            is_done = (materialized if key is None else key in done) and artifact.present(layout, key)
            if upstream or not is_done:
                plan.setdefault(group, []).append(name)
            else:
                complete += 1
    return plan, complete


def prepare_runs(
    layout: Layout,
    selection: list[str],
    sources_per_partition: int = DEFAULT_SOURCES_PER_PARTITION,
    videos_per_partition: int = DEFAULT_VIDEOS_PER_PARTITION,
    echo: Echo = print,
    catalog: Catalog = CATALOG,
) -> tuple[dg.DagsterInstance, Plan, int]:
    """Everything before the first run: the instance, new partition keys, and the plan."""
    instance = open_instance(layout)
    for note in adopt_old_frame_folders(layout):  # before planning: the checks look in the new folders
        echo(note)
    added = register_partitions(instance, layout, sources_per_partition, videos_per_partition, catalog)
    for name, keys in added.items():
        if keys:
            echo(f"registered {len(keys)} new {name} partition(s): {', '.join(keys[:5])}{' ...' if len(keys) > 5 else ''}")
    plan, complete = plan_runs(instance, layout, selection, catalog)
    return instance, plan, complete


def file_counts(layout: Layout, names: list[str], catalog: Catalog = CATALOG) -> dict[str, int]:
    """What a researcher checks first: how many files each named artifact holds (pairs for the pair assets)."""
    return {name: catalog[name].count(catalog[name], layout) for name in catalog.ordered(names)}
