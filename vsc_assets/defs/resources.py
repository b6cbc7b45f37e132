"""The one resource every asset takes: where the data lives and how to run."""

import os
import sys

import dagster as dg
from pydantic import Field

from vsc_assets.parallel import default_workers
from vsc_assets.constants import DEFAULT_BASE_SEED
from vsc_assets.layout import Layout, resolve_root

STEP_WORKERS_ENV = "VSC_STEP_WORKERS"  # worker processes per step on this machine or pod; read when a step runs


def celery_worker_name() -> str | None:
    """name@host of the Celery worker running this step; None outside one."""
    celery = sys.modules.get("celery")  # loaded only inside a Celery worker
    task = getattr(celery, "current_task", None)
    return task.request.hostname if task and task.request.hostname else None


UNFINISHED = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def runs_sharing_the_cores(instance: dg.DagsterInstance) -> int:
    """The runs queued or in flight (at least one: the caller's), at most as many as the
    instance's run queue lets run at once."""
    unfinished = max(1, instance.get_runs_count(dg.RunsFilter(statuses=UNFINISHED)))
    queue = instance.get_concurrency_config().run_queue_config
    limit = queue.max_concurrent_runs if queue else None
    return min(unfinished, limit) if limit and limit > 0 else unfinished


class VscRoot(dg.ConfigurableResource):
    """All paths derive from ``root``; empty means $VSC_ROOT, else ./vsc-data (read at run time)."""

    root: str = Field(default="", description="Data root; empty: $VSC_ROOT or ./vsc-data")
    base_seed: int = Field(default=DEFAULT_BASE_SEED, description="Base seed of every augmented file")
    workers: int = Field(
        default=0,
        description="Worker processes inside one run; 0: the cores divided by the runs queued or in flight, at most the instance's max_concurrent_runs",
    )
    sources_per_partition: int = Field(
        default=0, description="DISC21 sources per new partition key; 0: as the root's first keys were made"
    )
    videos_per_partition: int = Field(default=0, description="Video ids per new partition key; 0: as the root's first keys were made")

    def asked_sizes(self) -> dict[str, int]:
        """The sizes of new keys this resource asks for, by the unit they count (catalog.partition_sizes)."""
        return {"sources": self.sources_per_partition, "videos": self.videos_per_partition}

    def layout(self) -> Layout:
        return Layout(resolve_root(self.root or None))

    def worker_count(self, instance: dg.DagsterInstance | None = None) -> int:
        """Concurrent runs times workers per run stays at the core count: a run shares the cores
        with the runs queued or in flight when it starts (itself included), as many as the
        instance lets run at once. A lone run (one partition from the UI) takes every core; a run
        of a backfill, its share. $VSC_STEP_WORKERS, read when the step runs, sets it per machine
        or pod (`vsc-assets worker --step-workers` sets it); a Celery worker, which takes one step
        at a time, otherwise uses its machine's cores."""
        if self.workers > 0:
            return self.workers
        if int(os.environ.get(STEP_WORKERS_ENV) or 0) > 0:
            return int(os.environ[STEP_WORKERS_ENV])
        if celery_worker_name() is not None or instance is None:
            return default_workers()
        return max(1, default_workers() // runs_sharing_the_cores(instance))
