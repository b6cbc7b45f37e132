"""What `vsc-assets materialize` will run: every selected partition that is missing, failed, or whose files are
gone; and, when asked, those an older recipe version made."""

from __future__ import annotations

from typing import Callable

import dagster as dg

from vsc_assets.augment.families import PUBLISHED
from vsc_assets.builders.frames import adopt_old_frame_folders
from vsc_assets.catalog.artifacts import CATALOG, Catalog
from vsc_assets.layout import Layout
from vsc_assets.defs.liveness import close_dead_runs
from vsc_assets.runs.instance import added_lines, open_instance, register_partitions

Echo = Callable[[str], None]
Plan = dict[tuple, list[str]]  # (partitions definition or None, key or None) -> artifacts to (re)materialize
Stale = dict[str, list[tuple[str | None, str]]]  # artifact -> (key, the version its manifest names)


def plan_runs(
    instance: dg.DagsterInstance,
    layout: Layout,
    selection: list[str],
    catalog: Catalog = CATALOG,
    randomness: str = PUBLISHED,
    rebuild_stale: bool = False,
) -> tuple[Plan, int, Stale]:
    """The plan, how many asset partitions are complete already, and which complete ones an
    older recipe version (or the other randomness mode) made: planned only if ``rebuild_stale``."""
    plan: Plan = {}
    complete = 0
    stale: Stale = {}
    for name in catalog.ordered(selection):
        artifact = catalog[name]
        current = artifact.version_for(randomness)
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
            made_by = artifact.made_by(layout, key) if is_done else None
            if is_done and made_by != current:
                stale.setdefault(name, []).append((key, made_by or "unversioned"))
                is_done = not rebuild_stale
            if upstream or not is_done:
                plan.setdefault(group, []).append(name)
            else:
                complete += 1
    return plan, complete, stale


def prepare_runs(
    layout: Layout,
    selection: list[str],
    sources_per_partition: int | None = None,
    videos_per_partition: int | None = None,
    echo: Echo = print,
    catalog: Catalog = CATALOG,
    randomness: str = PUBLISHED,
    rebuild_stale: bool = False,
) -> tuple[dg.DagsterInstance, Plan, int, Stale]:
    """Everything before the first run: the instance, its dead runs closed, new partition keys (sized as
    the root's first keys were, unless a size is given), the plan."""
    instance = open_instance(layout)
    for line in close_dead_runs(instance):
        echo(line)
    for note in adopt_old_frame_folders(layout):  # before planning: the checks look in the new folders
        echo(note)
    added = register_partitions(instance, layout, {"sources": sources_per_partition, "videos": videos_per_partition}, catalog)
    for line in added_lines(added):
        echo(line)
    plan, complete, stale = plan_runs(instance, layout, selection, catalog, randomness, rebuild_stale)
    return instance, plan, complete, stale


def file_counts(layout: Layout, names: list[str], catalog: Catalog = CATALOG) -> dict[str, int]:
    """What a researcher checks first: how many files each named artifact holds (pairs for the pair assets)."""
    return {name: catalog[name].count(catalog[name], layout) for name in catalog.ordered(names)}
