"""A backfill from the command line, the way the UI's Materialize → All partitions makes one: an asset backfill.

The daemon runs it. Dagster's asset backfills wait for a run that is to be
retried (tagged ``dagster/will_retry``) before they count its partitions, so a
run whose process died (killed, out of memory) is retried by the run-retry
daemon and the backfill ends only when every partition is whole. A job
backfill (``dagster job backfill``) is marked complete the moment its runs are
submitted, and Dagster's run-retry daemon refuses to retry a run of a finished
backfill: there a lost run stays lost (docs/operations.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import dagster as dg

# No public API submits an asset backfill: these are what the webserver's launchPartitionBackfill calls.
from dagster._core.execution.backfill import PartitionBackfill
from dagster._core.utils import make_new_backfill_id

from vsc_assets.builders.frames import adopt_old_frame_folders
from vsc_assets.catalog.artifacts import CATALOG, Catalog
from vsc_assets.catalog.partition_sizes import Asked
from vsc_assets.definitions import definitions_of
from vsc_assets.defs.liveness import LAUNCHED_BY_TAG
from vsc_assets.layout import Layout
from vsc_assets.runs.instance import open_instance, register_partitions

DAEMON_FRESH = 60.0  # seconds: an older heartbeat of the backfill daemon means none is running


@dataclass(frozen=True)
class Launched:
    backfill_id: str
    assets: list[str]
    partitions: list[str] | None  # None: every registered partition
    added: dict[str, list[str]]  # keys registered first, per partitions definition
    daemon_running: bool
    notes: list[str]  # what planning did first (frames moved from an old folder name)


def launch_backfill(
    layout: Layout, selection: list[str], partitions: list[str] | None = None, asked: Asked | None = None, catalog: Catalog = CATALOG
) -> Launched:
    """Register keys for new data, then add an asset backfill of ``selection`` (every partition, or
    ``partitions`` of the one partitioning the selected partitioned assets share) for the daemon to run."""
    instance = open_instance(layout)
    notes = adopt_old_frame_folders(layout)  # before the backfill: the checks look in the new folders
    added = register_partitions(instance, layout, asked, catalog)
    names = catalog.ordered(selection)
    if partitions is not None:
        shared = {catalog[n].partitioning.name for n in names if catalog[n].partitioning is not None}
        if len(shared) != 1:
            raise ValueError(f"--partitions names keys of one partitioning, and {', '.join(names)} span {len(shared) or 'none'}")
        (name,) = shared
        unknown = sorted(set(partitions) - set(instance.get_dynamic_partitions(name)))
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not a registered {name} key")
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=make_new_backfill_id(),
        asset_graph=definitions_of(catalog).resolve_asset_graph(),
        partition_names=partitions,
        asset_selection=[dg.AssetKey(n) for n in names],
        backfill_timestamp=time.time(),
        tags={LAUNCHED_BY_TAG: "vsc-assets backfill"},
        dynamic_partitions_store=instance,
        all_partitions=partitions is None,
        title="vsc-assets backfill",
        description=f"{', '.join(names)}: {'every partition' if partitions is None else ', '.join(partitions)}",
        run_config=None,
    )
    instance.add_backfill(backfill)  # from here on, the daemon's: as a backfill launched in the UI
    beat = instance.get_daemon_heartbeats().get("BACKFILL")
    running = beat is not None and time.time() - beat.timestamp < DAEMON_FRESH
    return Launched(backfill.backfill_id, names, partitions, added, running, notes)
