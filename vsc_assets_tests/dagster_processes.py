"""Real Dagster processes on a test's own root: dagster-daemon, dagster-webserver, the dagster CLI.

The end-to-end tests drive the platform only through these, as a user would, and
read the results from the instance and the disk. Every wait has an explicit
timeout; when one runs out, or anything in the block fails, the daemon's log
tail is printed with the error.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from vsc_assets.layout import Layout
from vsc_assets_tests.servers import started
from vsc_assets_tests.support import free_port, wait_for

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WORKSPACE = str(REPO / "workspace.yaml")
LOG_TAIL = 60  # lines of each process's log shown when a test fails


def env_for(root: Path) -> dict[str, str]:
    """What a user exports before driving Dagster on a root (README)."""
    layout = Layout(root)
    return {**os.environ, "DAGSTER_HOME": str(layout.dagster_home), "VSC_ROOT": str(root)}


def run_cli(root: Path, *command: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """A command as a user types it (``vsc-assets``, ``dagster``, ``dg``), from this environment; it must succeed."""
    exe = str(BIN / command[0]) if (BIN / command[0]).exists() else command[0]
    proc = subprocess.run([exe, *command[1:]], cwd=REPO, env=env_for(root), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(command)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def stop_sensor(env: dict[str, str], name: str = "data_change_sensor") -> None:
    """Turn a sensor off in the instance, as a user does before a daemon test whose point is something
    else: the data-change sensor's first tick would request every partition never materialized."""
    subprocess.run([str(BIN / "dagster"), "sensor", "stop", "-w", WORKSPACE, name], cwd=REPO, env={**os.environ, **env},
                   check=True, capture_output=True, timeout=180)  # fmt: skip


@dataclass
class Dagster:
    """The processes started on one root, and the instance they share."""

    root: Path
    logs: dict[str, Path] = field(default_factory=dict)
    port: int | None = None

    @property
    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(Layout(self.root).dagster_home))

    def wait(self, probe, timeout: float, what: str, every: float = 1.0):
        """``probe()`` until truthy; on timeout an AssertionError naming ``what`` (the log tail follows)."""
        return wait_for(probe, timeout, what, every)

    def graphql(self, query: str, variables: dict | None = None, timeout: float = 120) -> dict:
        """One GraphQL call to the webserver, the way the UI makes it."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/graphql", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read())
        assert "errors" not in answer, answer
        return answer["data"]

    def tail(self) -> str:
        out = []
        for name, path in self.logs.items():
            lines = path.read_text(errors="replace").splitlines() if path.exists() else []
            out.append(f"----- last {LOG_TAIL} lines of {name} ({path}) -----")
            out.extend(lines[-LOG_TAIL:])
        return "\n".join(out)


def _daemons_up(instance: dg.DagsterInstance, since: float) -> bool:
    """Every daemon the instance's settings call for (sensors, automation, backfills, the run queue,
    run monitoring, run retries) has beaten since the processes started."""
    beats = instance.get_daemon_heartbeats()
    return all(name in beats and beats[name].timestamp >= since for name in instance.get_required_daemon_types())


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2):
            return True
    return False


@contextlib.contextmanager
def dagster_processes(root: Path, logs: Path, webserver: bool = False, timeout: float = 180):
    """`dagster-daemon run -w workspace.yaml` (and `dagster-webserver`) on ``root``, as a user starts them;
    yields once they answer, stops both afterwards. Any failure inside prints their log tails."""
    logs.mkdir(parents=True, exist_ok=True)
    env = env_for(root)
    session = Dagster(root, {"dagster-daemon": logs / "daemon.log"})
    with contextlib.ExitStack() as stack:
        begun = time.time()
        stack.enter_context(started([str(BIN / "dagster-daemon"), "run", "-w", WORKSPACE], env, session.logs["dagster-daemon"], REPO))
        if webserver:
            session.port = free_port()
            session.logs["dagster-webserver"] = logs / "webserver.log"
            command = [str(BIN / "dagster-webserver"), "-w", WORKSPACE, "-h", "127.0.0.1", "-p", str(session.port)]
            stack.enter_context(started(command, env, session.logs["dagster-webserver"], REPO))
        try:
            instance = session.instance
            session.wait(lambda: _daemons_up(instance, begun), timeout, "every daemon the instance needs to beat")
            if webserver:
                session.wait(lambda: _answers(session.port), timeout, "dagster-webserver to answer")
            yield session
        except BaseException:
            print(session.tail())
            raise


# ------------------------------------------------------------------ what the instance says


def failed_ticks(instance: dg.DagsterInstance) -> dict[str, list[str]]:
    """Every sensor's failed ticks, with their errors: a tick the daemon refused counts here."""
    from dagster._core.scheduler.instigation import TickStatus

    out = {}
    for state in instance.all_instigator_state():
        ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, statuses=[TickStatus.FAILURE])
        if ticks:
            out[state.instigator_name] = [t.error.message.strip().splitlines()[-1] if t.error else "?" for t in ticks]
    return out


def sensor_ticks(instance: dg.DagsterInstance, name: str) -> int:
    """How many ticks of one sensor the daemon has evaluated (any outcome)."""
    for state in instance.all_instigator_state():
        if state.instigator_name == name:
            return len(instance.get_ticks(state.instigator_origin_id, state.selector_id))
    return 0


def partition_runs(instance: dg.DagsterInstance, key: str, **filters) -> list[dg.DagsterRun]:
    return list(instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": key}, **filters)))


def materialized_partitions(instance: dg.DagsterInstance, names) -> dict[str, set[str]]:
    return {name: set(instance.get_materialized_partitions(dg.AssetKey(name))) for name in names}


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, by its path relative to it."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
