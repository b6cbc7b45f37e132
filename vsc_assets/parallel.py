"""A process pool for the per-file work of one partition run.

Workers are spawned (not forked: the Dagster process has threads) and get the
shared job once through the initializer. Results stream back in task order.
A stop (``stopping``) kills the workers at once; a worker that dies otherwise
breaks the pool, and the step fails and is retried.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterable, Iterator

from vsc_assets import stopping

_JOB: Any = None
POLL_SECONDS = 0.5  # how often a waiting parent looks for a stop


def _init(job: Any) -> None:
    global _JOB
    _JOB = job
    stopping.ignore_in_workers()


def _call(fn_and_task):
    fn, task = fn_and_task
    return fn(_JOB, task)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _kill(processes) -> None:
    for process in processes:
        if process.is_alive():
            process.kill()


def run_tasks(fn: Callable[[Any, Any], Any], job: Any, tasks: Iterable[Any], workers: int) -> Iterator[Any]:
    """Yield ``fn(job, task)`` for each task, in order, using ``workers`` processes."""
    tasks = list(tasks)
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            stopping.check()
            yield fn(job, task)
        return
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx, initializer=_init, initargs=(job,))
    processes = []  # the pool's workers, once started (the stop callback kills them)
    forget = stopping.on_stop(lambda: _kill(processes))
    try:
        futures = [pool.submit(_call, (fn, task)) for task in tasks]
        processes.extend(multiprocessing.active_children())
        for future in futures:
            while True:
                try:
                    result = future.result(timeout=POLL_SECONDS)
                    break
                except concurrent.futures.TimeoutError:
                    stopping.check()
                except concurrent.futures.process.BrokenProcessPool:
                    stopping.check()  # killed by a stop: say so, not that the pool broke
                    raise
            stopping.check()
            yield result
        pool.shutdown(wait=True)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        _kill(multiprocessing.active_children() if stopping.requested() else [])
        raise
    finally:
        forget()
