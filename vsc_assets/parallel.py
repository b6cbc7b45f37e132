"""A process pool for the per-file work of one partition run.

Workers are spawned (not forked: the Dagster process has threads) and get the
shared job once through the initializer. Results stream back in task order.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterable, Iterator

_JOB: Any = None


def _init(job: Any) -> None:
    global _JOB
    _JOB = job


def _call(fn_and_task):
    fn, task = fn_and_task
    return fn(_JOB, task)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_tasks(
    fn: Callable[[Any, Any], Any], job: Any, tasks: Iterable[Any], workers: int
) -> Iterator[Any]:
    """Yield ``fn(job, task)`` for each task, in order, using ``workers`` processes."""
    tasks = list(tasks)
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield fn(job, task)
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=min(workers, len(tasks)), mp_context=ctx, initializer=_init, initargs=(job,)
    ) as pool:
        yield from pool.map(_call, [(fn, t) for t in tasks], chunksize=1)
