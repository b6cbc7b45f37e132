"""Runs whose process is gone: found and marked failed, so none stays "in progress" for ever.

`vsc-assets materialize` tags every run it starts with its host and pid. The
next `materialize`, and the data-change sensor every minute in the daemon,
mark failed (with the reason) each such run still in progress whose process
no longer runs on this host. Runs the daemon launches are watched by Dagster's
own run monitoring (``run_monitoring`` in the shipped dagster.yaml).
"""

from __future__ import annotations

import os
import socket

import dagster as dg

from vsc_assets.io.atomic import pid_alive

# Who runs a run: written on every run `vsc-assets materialize` starts, read to find runs whose process is gone.
HOST_TAG, PID_TAG = "vsc_assets/host", "vsc_assets/pid"
LAUNCHED_BY_TAG = "vsc_assets/launched_by"


def runner_tags() -> dict[str, str]:
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def close_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed, with the reason, every run still in progress whose process provably is gone:
    started on this host by a process that no longer runs (killed with -9, a machine restarted)."""
    host, lines = socket.gethostname(), []
    in_progress = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.CANCELING]
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=in_progress, tags={HOST_TAG: host})):
        pid = int(run.tags.get(PID_TAG, "0") or 0)
        if pid and pid != os.getpid() and not pid_alive(pid):
            reason = f"its process ({host}, pid {pid}) is gone: killed, or its machine restarted"
            instance.report_run_failed(run, message=f"Run {run.run_id} marked failed: {reason}")
            lines.append(f"marked run {run.run_id} failed: {reason}")
    return lines
