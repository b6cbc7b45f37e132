"""The Dagster instance under the root, and the partition keys registered in it."""

from __future__ import annotations

import fcntl
import re
from pathlib import Path

import dagster as dg

from vsc_assets.catalog.artifacts import CATALOG, Catalog
from vsc_assets.catalog.partition_sizes import Asked, new_keys
from vsc_assets.io.atomic import write_bytes_atomic
from vsc_assets.layout import Layout
from vsc_assets.parallel import default_workers

PACKAGE = Path(__file__).resolve().parent.parent
SHIPPED_INSTANCE_CONFIG = PACKAGE / "dagster.yaml"
CLUSTER_INSTANCE_CONFIG = PACKAGE / "cluster" / "dagster.yaml"


OPENING_LOCK = ".vsc-assets-opening.lock"
_RUN_LIMIT = re.compile(r"^(\s*max_concurrent_runs:) \d+$", re.MULTILINE)


def local_instance_config(cores: int) -> str:
    """The shipped config with the run limit set to ``cores``: one run per core, one worker each.
    A run the daemon launches leaves its cores idle for seconds, which many small runs hide
    (docs/benchmarks.md, "Runs the daemon launches")."""
    text, found = _RUN_LIMIT.subn(rf"\g<1> {max(1, cores)}", SHIPPED_INSTANCE_CONFIG.read_text())
    if found != 1:
        raise ValueError(f"{SHIPPED_INSTANCE_CONFIG}: expected one max_concurrent_runs line, found {found}")
    return text


def open_instance(layout: Layout) -> dg.DagsterInstance:
    """The instance at $DAGSTER_HOME, else <root>/.dagster (SQLite) or, for a cluster,
    <root>/.dagster-cluster (Postgres); created on first use from the shipped config (a
    machine's with its run limit set to the machine's cores).

    Two commands opening a new instance at once would each create its databases: Dagster's SQLite
    storage then fails in one of them ("table ... already exists") and leaves a second alembic head
    that every later open refuses. So commands open it one at a time, under a lock on its folder
    (released by the kernel if the holder dies)."""
    home = layout.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    with open(home / OPENING_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        config = home / "dagster.yaml"
        if not config.exists():
            # A cluster's run limit is its Celery slots, set by hand; a machine's, its cores.
            text = CLUSTER_INSTANCE_CONFIG.read_text() if layout.cluster else local_instance_config(default_workers())
            write_bytes_atomic(config, text.encode())
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
            _add_keys(instance, name, keys)
    return added


def _add_keys(instance: dg.DagsterInstance, name: str, keys: list[str], attempts: int = 3) -> None:
    """Another command may register the same keys at the same moment: Dagster reads which exist, then
    inserts the rest, and the keys' unique index rejects the loser's insert whole. Add what is still
    missing until nothing is; any other failure is raised as it was."""
    for attempt in range(attempts):
        try:
            instance.add_dynamic_partitions(name, keys)
            return
        except Exception:
            keys = sorted(set(keys) - set(instance.get_dynamic_partitions(name)))
            if not keys:
                return  # the other command added them all
            if attempt == attempts - 1:
                raise


def added_lines(added: dict[str, list[str]], shown: int = 5) -> list[str]:
    """What registering said, one line per partitions definition that got keys: how many, the first few."""
    return [
        f"registered {len(keys)} new {name} partition(s): {', '.join(keys[:shown])}{' ...' if len(keys) > shown else ''}"
        for name, keys in added.items()
        if keys
    ]
