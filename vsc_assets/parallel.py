"""A process pool for the per-file work of one partition run, kept for the process's next runs.

Workers are spawned (not forked: the Dagster process has threads). Spawning
one costs about a second of imports, so the pool outlives the call that made
it: the next step of the same run, or the next partition of a
`vsc-assets materialize`, finds its workers started. Each call hands its shared
job to the workers once, through a file they read at their first task of that
call. Results stream back in task order.

A stop (``stopping``), or a guard under the work that gives way (a claim
that can no longer be held), kills this pool's workers at once, and no other
child of the process; a worker that dies otherwise
breaks the pool, and the step fails and is retried. Either way, and whenever a
call ends early, its pool is dropped, never handed to the next call. A worker
whose parent is gone ends too.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import multiprocessing
import os
import pickle
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from vsc_assets import stopping

POLL_SECONDS = 0.5  # how often a waiting parent looks for a stop

# In a worker: the job of the call it last served, and which call that was.
_JOB: Any = None
_JOB_CALL: str | None = None

# In the parent: the idle pool, by its number of workers (taken while a call uses it).
_idle: dict[int, ProcessPoolExecutor] = {}
_idle_lock = threading.Lock()
_calls = itertools.count()


def _init() -> None:
    stopping.ignore_in_workers()
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent,), name="end with parent", daemon=True).start()


def _end_with(parent) -> None:
    """A worker ends when its parent does, however the parent ended (``kill -9`` too): an idle
    worker waits on its task queue, which a killed parent never closes."""
    parent.join()
    os._exit(1)


def _call(item):
    """In a worker: (result, when it started, when it ended), on the machine's monotonic clock."""
    global _JOB, _JOB_CALL
    call, job_path, fn, task = item
    started = time.monotonic()
    if call != _JOB_CALL:
        with open(job_path, "rb") as fh:
            _JOB = pickle.load(fh)
        _JOB_CALL = call
    return fn(_JOB, task), started, time.monotonic()


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _kill(processes) -> None:
    for process in processes:
        if process.is_alive():
            process.kill()


def _workers_of(pool: ProcessPoolExecutor) -> list:
    """This pool's own worker processes: a stop ends them and no other child of the process
    (the executor keeps them in ``_processes``; there is no public accessor)."""
    return list((getattr(pool, "_processes", None) or {}).values())


def _take_pool(workers: int) -> ProcessPoolExecutor:
    """The idle pool of this size, or a new one; nobody else uses it until it is given back."""
    with _idle_lock:
        pool = _idle.pop(workers, None)
    if pool is None:
        ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init)
    return pool


def _give_back(workers: int, pool: ProcessPoolExecutor) -> None:
    with _idle_lock:
        spare = _idle.pop(workers, None)  # a pool made meanwhile by a concurrent call: one is enough
        _idle[workers] = pool
    if spare is not None:
        spare.shutdown(wait=False)


def _job_file(job: Any) -> str:
    fd, path = tempfile.mkstemp(prefix="vsc-assets-job-", suffix=".pickle")
    with os.fdopen(fd, "wb") as fh:
        pickle.dump(job, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return path


Span = tuple[float, float]  # when a task started and ended in its worker (time.monotonic)


def run_tasks(
    fn: Callable[[Any, Any], Any], job: Any, tasks: Iterable[Any], workers: int, spans: list[Span] | None = None
) -> Iterator[Any]:
    """Yield ``fn(job, task)`` for each task, in order, using ``workers`` processes; each task's
    span is appended to ``spans`` if given."""
    tasks = list(tasks)
    spans = [] if spans is None else spans
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            stopping.check()
            started = time.monotonic()
            result = fn(job, task)
            spans.append((started, time.monotonic()))
            yield result
        return
    pool = _take_pool(workers)
    call = f"{os.getpid()}:{next(_calls)}"
    job_path = _job_file(job)
    processes = []  # the pool's workers, once started (the stop callback kills them)
    forget = stopping.on_stop(lambda: _kill(processes))
    try:
        futures = [pool.submit(_call, (call, job_path, fn, task)) for task in tasks]
        processes.extend(_workers_of(pool))
        for future in futures:
            while True:
                try:
                    result, started, ended = future.result(timeout=POLL_SECONDS)
                    spans.append((started, ended))
                    break
                except concurrent.futures.TimeoutError:
                    stopping.check()
                except concurrent.futures.process.BrokenProcessPool:
                    stopping.check()  # killed by a stop: say so, not that the pool broke
                    raise
            stopping.check()
            yield result
    except BaseException:
        workers_now = _workers_of(pool)
        pool.shutdown(wait=False, cancel_futures=True)
        _kill(workers_now if stopping.requested() else [])
        raise
    else:
        _give_back(workers, pool)
    finally:
        forget()
        os.unlink(job_path)


@dataclass(frozen=True)
class PoolUse:
    """Seconds of a pool call during which fewer workers than asked for had work, counted as
    whole-pool seconds (two of four workers idle for 1 s is 0.5 s): before every worker first
    had a task (``start``), and after (``tail``: the last tasks, and any gap between tasks)."""

    start: float
    tail: float

    @classmethod
    def of(cls, spans: list[Span], workers: int, began: float, ended: float) -> PoolUse:
        """From the spans of one call that ran from ``began`` to ``ended`` (time.monotonic)."""
        edges = sorted([(max(a, began), 1) for a, _ in spans] + [(min(b, ended), -1) for _, b in spans])
        busy, at, full, lost = 0, began, None, {True: 0.0, False: 0.0}  # keyed by "before full"
        for t, step in edges + [(ended, 0)]:
            lost[full is None] += max(0, workers - busy) * max(0.0, t - at) / workers
            busy, at = busy + step, max(at, t)
            if full is None and busy >= workers:
                full = t
        return cls(start=lost[True], tail=lost[False])

    @property
    def seconds(self) -> float:
        return self.start + self.tail

