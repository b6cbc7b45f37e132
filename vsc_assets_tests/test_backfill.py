"""Job backfills: the daemon launches the partition runs, at most max_concurrent_runs at a time; a failed
partition is re-executed from failure. (Asset backfills and lost runs: test_end_to_end.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from vsc_assets.cli.main import main
from vsc_assets.layout import Layout
from vsc_assets.parallel import default_workers
from vsc_assets_tests.dagster_processes import stop_sensor
from vsc_assets_tests.support import free_port, make_root, wait_for

pytestmark = pytest.mark.daemon

REPO = Path(__file__).resolve().parents[1]


def _start_daemon(env: dict[str, str]) -> subprocess.Popen:
    """In a process group of its own, so that ``_stop`` ends the code server it starts too."""
    bin_dir = Path(sys.executable).parent
    return subprocess.Popen(
        [str(bin_dir / "dagster-daemon"), "run", "-w", str(REPO / "workspace.yaml")],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip


def _stop(*processes: subprocess.Popen) -> None:
    """Each process's whole group: SIGTERM to a dagster process alone leaves its code server running."""
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _backfill_all_partitions(env: dict[str, str]) -> None:
    """The way an operator asks for a backfill from the shell; the daemon launches its runs."""
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [str(bin_dir / "dagster"), "job", "backfill", "-w", str(REPO / "workspace.yaml"), "-j", "disc21_sets", "--all", "ALL", "--noprompt"],
        cwd=REPO, env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def _max_overlap(runs) -> int:
    edges = sorted([(r.start_time, 1) for r in runs] + [(r.end_time, -1) for r in runs])
    level = best = 0
    for _, step in edges:
        level += step
        best = max(best, level)
    return best


def test_backfill_keeps_the_run_limit_and_reexecutes_only_its_failed_partition(tmp_path, capsys):
    root = make_root(tmp_path, count=160)  # 16 sources: runs long enough to overlap on a busy machine
    assert main(["register", "--root", str(root), "--sources-per-partition", "4"]) == 0  # 4 keys, instance created
    capsys.readouterr()
    layout = Layout(root)
    blocker = layout.set_dir("train_v1_s27_all") / "12_0.jpg"
    blocker.mkdir(parents=True)  # partition 000012-000015 cannot write this file
    env = {**os.environ, "DAGSTER_HOME": str(layout.dagster_home), "VSC_ROOT": str(root)}
    stop_sensor(env)  # the runs counted here are the backfill's alone
    bin_dir = Path(sys.executable).parent
    daemon = _start_daemon(env)
    port = free_port()
    web = subprocess.Popen(
        [str(bin_dir / "dagster-webserver"), "-w", str(REPO / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    instance = dg.DagsterInstance.from_config(str(layout.dagster_home))
    try:
        _backfill_all_partitions(env)
        runs = _wait_for_runs(instance, 4)
        assert len(runs) == 4 and all(r.is_finished for r in runs), [r.status for r in runs]
        failed = sorted(r.tags["dagster/partition"] for r in runs if r.is_failure)
        assert failed == ["000012-000015"]
        stats = [instance.get_run_stats(r.run_id) for r in runs]
        limit = instance.get_concurrency_config().run_queue_config.max_concurrent_runs  # the machine's cores
        assert 1 <= _max_overlap(stats) <= limit  # never more than max_concurrent_runs at once, however busy the machine
        # A run shares the cores with the runs still to end (VscRoot.worker_count): one that another
        # run outlived, waiting or running, had at most half of them in every step.
        shared = _outlived_runs(instance, runs)
        assert shared
        for run in shared:
            workers = [e.asset_materialization.metadata["workers"].value for e in instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records]
            assert workers and all(w <= max(1, default_workers() // 2) for w in workers), (run.tags["dagster/partition"], workers)

        # Fix the cause, then what the UI's "Re-execute → From failure" on the backfill does.
        blocker.rmdir()
        (backfill,) = instance.get_backfills()
        answer = _graphql(
            port,
            "mutation($id: String!) { reexecutePartitionBackfill(reexecutionParams: {parentRunId: $id, strategy: FROM_FAILURE})"
            " { __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }",
            {"id": backfill.backfill_id},
        )
        assert answer["data"]["reexecutePartitionBackfill"]["__typename"] == "LaunchBackfillSuccess", answer
        runs = _wait_for_runs(instance, 5)
    finally:
        _stop(web, daemon)
    newest = max(runs, key=lambda r: instance.get_run_stats(r.run_id).start_time or 0)
    assert len(runs) == 5 and newest.is_success and newest.tags["dagster/partition"] == "000012-000015"
    assert len(list(layout.set_dir("train_v1_s27_all").glob("*.jpg"))) == 320


def _outlived_runs(instance, runs) -> list:
    """The runs another run outlived: created before this one started, ended after it ended."""
    records = [instance.get_run_record_by_id(r.run_id) for r in runs]
    return [
        r.dagster_run
        for r in records
        if any(o is not r and o.create_timestamp.timestamp() < r.start_time and o.end_time > r.end_time for o in records)
    ]


def _wait_for_runs(instance, count: int, timeout: float = 400):
    def finished():
        runs = instance.get_runs()
        return runs if len(runs) >= count and all(r.is_finished for r in runs) else None

    return wait_for(finished, timeout, f"{count} finished runs", every=2)


def _graphql(port: int, query: str, variables: dict) -> dict:
    import json
    import urllib.request

    body = json.dumps({"query": query, "variables": variables}).encode()
    for _ in range(120):
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", body, {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except OSError:
            time.sleep(0.5)
    raise AssertionError("dagster-webserver did not answer")


def test_a_cli_run_and_a_daemon_backfill_over_the_same_partitions_build_each_once(tmp_path, capsys):
    from vsc_assets_tests.support import DISC21_SETS

    root = make_root(tmp_path, count=120)  # 12 sources: 3 partitions of 4
    assert main(["register", "--root", str(root), "--sources-per-partition", "4"]) == 0
    capsys.readouterr()
    layout = Layout(root)
    env = {**os.environ, "DAGSTER_HOME": str(layout.dagster_home), "VSC_ROOT": str(root)}
    daemon = _start_daemon(env)
    instance = dg.DagsterInstance.from_config(str(layout.dagster_home))
    try:
        _backfill_all_partitions(env)
        wait_for(lambda: any(r.status == dg.DagsterRunStatus.STARTED for r in instance.get_runs()), 180, "the backfill's first run")
        cli = subprocess.run(
            [sys.executable, "-m", "vsc_assets.cli", "materialize", "--root", str(root), "--select", ",".join(DISC21_SETS), "--workers", "1"],
            env={k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "VSC_ROOT")}, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert cli.returncode == 0, cli.stdout + cli.stderr
        backfill_runs = lambda: [r for r in instance.get_runs() if "dagster/backfill" in r.tags]  # noqa: E731
        runs = wait_for(lambda: len(backfill_runs()) == 3 and all(r.is_finished for r in backfill_runs()) and backfill_runs(), 400, "the backfill's 3 runs")
    finally:
        _stop(daemon)
    assert all(r.is_success for r in runs), [r.status for r in runs]
    built: dict[tuple[str, str], int] = {}
    for name in DISC21_SETS:
        for record in instance.fetch_materializations(dg.AssetKey(name), limit=1000).records:
            m = record.asset_materialization
            if "built_by" not in m.metadata:
                built[(name, m.partition)] = built.get((name, m.partition), 0) + 1
    assert built == {(name, key): 1 for name in DISC21_SETS for key in ("000000-000003", "000004-000007", "000008-000011")}
    logged = [e.user_message for r in runs for e in instance.all_logs(r.run_id) if "being built by" in (e.user_message or "") or "made whole by" in (e.user_message or "")]
    said = cli.stdout + cli.stderr + "\n".join(logged)
    assert "being built by run " in said or "made whole by" in said, said
    single = make_root(tmp_path / "single", count=120)
    assert main(["materialize", "--root", str(single), "--select", ",".join(DISC21_SETS), "--sources-per-partition", "4", "--workers", "1"]) == 0
    for name in DISC21_SETS:
        ours = {p.name: p.read_bytes() for p in layout.set_dir(name).glob("*.jpg")}
        assert ours == {p.name: p.read_bytes() for p in Layout(single).set_dir(name).glob("*.jpg")}, name
