"""Many hands on one root: two operators at once, Ctrl-C and SIGTERM, a killed command, a killed holder.

Every `vsc-assets` here is a process of its own, in a session of its own (as a
terminal's foreground job is), and every wait has a timeout.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from vsc_assets.demo.images import make_disc21_demo
from vsc_assets.layout import Layout
from vsc_assets_tests.support import S27, make_root, wait_for

pytestmark = pytest.mark.operators

ARGS = ["--select", S27, "--sources-per-partition", "3", "--workers", "2"]


def start(root: Path, *extra: str, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "VSC_ROOT")}
    with open(log, "w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "vsc_assets.cli", "materialize", "--root", str(root), *ARGS, *extra],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip


def finish(proc: subprocess.Popen, timeout: float = 300) -> int:
    return proc.wait(timeout=timeout)


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.jpg"))}


def builds(root: Path) -> dict[str, int]:
    """How many times each partition of the set was built (not counted as done after waiting)."""
    instance = dg.DagsterInstance.from_config(str(Layout(root).dagster_home))
    events = instance.fetch_materializations(dg.AssetKey(S27), limit=1000).records
    counts: dict[str, int] = {}
    for record in events:
        materialization = record.asset_materialization
        if "built_by" not in materialization.metadata:
            counts[materialization.partition] = counts.get(materialization.partition, 0) + 1
    return counts


def group_gone(proc: subprocess.Popen) -> bool:
    """Whether no process is left in the command's process group (its session: its workers too)."""
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return True
    return False


def any_file(root: Path) -> bool:
    folder = Layout(root).set_dir(S27)
    return folder.is_dir() and any(folder.glob("*.jpg"))


@pytest.fixture(scope="module")
def single_run(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The same root built by one uninterrupted `materialize`: what every test's files must equal."""
    root = make_root(tmp_path_factory.mktemp("single"), count=120)
    log = root.parent / "single.log"
    assert finish(start(root, log=log)) == 0, log.read_text()
    return root, digests(Layout(root).set_dir(S27))


def test_two_operators_one_second_apart_build_each_partition_once(tmp_path, single_run):
    root = make_root(tmp_path, count=120)  # 12 sources: 4 partitions of 3
    first = start(root, log=tmp_path / "first.log")
    wait_for(lambda: (Layout(root).root / ".claims").is_dir(), 120, "the first operator's first claim")
    second = start(root, log=tmp_path / "second.log")
    assert finish(first) == 0 and finish(second) == 0, (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()
    assert builds(root) == {key: 1 for key in ("000000-000002", "000003-000005", "000006-000008", "000009-000011")}
    said = (tmp_path / "first.log").read_text() + (tmp_path / "second.log").read_text()
    # Whom it waited for ("being built by run ..."), or whose partition it left for later ("... by run ...").
    assert " by run " in said and " on host " in said and "(pid " in said, said
    assert digests(Layout(root).set_dir(S27)) == single_run[1]


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_signal_to_the_group_ends_the_command_within_seconds(tmp_path, single_run, signum, code):
    root = make_root(tmp_path, count=120)
    # Two partitions of 6 sources: the first is still being built when its first files appear.
    proc = start(root, "--sources-per-partition", "6", log=tmp_path / "stopped.log")
    wait_for(lambda: any_file(root), 120, "the first files of the first partition")
    os.killpg(proc.pid, signum)  # as a terminal sends Ctrl-C: to the whole foreground process group
    sent = time.monotonic()
    assert finish(proc, timeout=60) == code
    took = time.monotonic() - sent
    said = (tmp_path / "stopped.log").read_text()
    assert took < 15, (took, said)
    assert f"stopped by {signal.Signals(signum).name}" in said and "not finished:" in said, said
    wait_for(lambda: group_gone(proc), 30, "every worker process of the stopped command to be gone")
    instance = dg.DagsterInstance.from_config(str(Layout(root).dagster_home))
    statuses = [run.status for run in instance.get_runs()]
    assert set(statuses) <= {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE}, statuses  # none left STARTED
    # The run the stop cut short is closed as failed; one that ended before the signal came stays a success.
    cut_short = re.findall(r"stopped \(run (\S+) marked failed\)", said)
    finished = int(re.search(r"(\d+) partition run\(s\) finished", said).group(1))
    assert statuses.count(dg.DagsterRunStatus.FAILURE) == len(cut_short) and statuses.count(dg.DagsterRunStatus.SUCCESS) == finished, said
    assert all(instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE for run_id in cut_short)
    assert not [p for p in Layout(root).set_dir(S27).iterdir() if not p.name.endswith(".jpg")]  # no half-written file
    if signum == signal.SIGINT:  # the next run goes on from there (once is enough: the stop is the same)
        assert finish(start(root, log=tmp_path / "again.log")) == 0
        assert digests(Layout(root).set_dir(S27)) == single_run[1]


def test_kill_9_leaves_a_run_the_next_materialize_closes_and_rebuilds(tmp_path, single_run):
    root = make_root(tmp_path, count=120)
    proc = start(root, log=tmp_path / "killed.log")
    wait_for(lambda: any_file(root), 120, "the first files of the first partition")
    proc.kill()
    proc.wait(timeout=60)
    wait_for(lambda: group_gone(proc), 30, "the killed command's worker processes to see it gone and end")
    instance = dg.DagsterInstance.from_config(str(Layout(root).dagster_home))
    (run,) = [r for r in instance.get_runs() if r.status == dg.DagsterRunStatus.STARTED]
    assert finish(start(root, log=tmp_path / "next.log")) == 0
    said = (tmp_path / "next.log").read_text()
    assert f"marked run {run.run_id} failed" in said and "is gone" in said, said
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
    assert digests(Layout(root).set_dir(S27)) == single_run[1]


def test_a_holder_killed_mid_partition_is_taken_over_and_the_result_is_whole(tmp_path):
    root = tmp_path / "root"
    make_disc21_demo(Layout(root).disc21_dir, count=240)  # full-size photos: the holder is still at it when killed
    command = [sys.executable, "-m", "vsc_assets.cli", "materialize", "--root", str(root), "--select", S27, "--sources-per-partition", "24"]
    holder = subprocess.Popen([*command, "--workers", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(lambda: any_file(root), 120, "the holder's first files")
    with open(tmp_path / "waiter.log", "w") as log:  # one partition: the waiter can't go on with another
        waiter = subprocess.Popen([*command, "--workers", "2"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for(lambda: "waiting for it" in (tmp_path / "waiter.log").read_text(), 120, "the waiter to name whom it waits for")
    assert holder.poll() is None, "the holder finished before it could be killed"
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait(timeout=60)
    assert finish(waiter) == 0, (tmp_path / "waiter.log").read_text()
    said = (tmp_path / "waiter.log").read_text()
    assert "took over the claim of run " in said and "which is gone" in said, said
    instance = dg.DagsterInstance.from_config(str(Layout(root).dagster_home))
    checks = [e for r in instance.get_runs() if r.is_success for e in instance.all_logs(r.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)]
    assert checks and all(e.dagster_event.event_specific_data.passed for e in checks)
    folder = Layout(root).set_dir(S27)
    assert len(list(folder.glob("*.jpg"))) == 480  # 24 sources, 20 files each
    assert not list((root / ".staging").rglob("*.part")) if (root / ".staging").exists() else True


def test_a_stale_claim_file_left_by_a_dead_process_never_blocks(tmp_path):
    from vsc_assets.catalog.claims import Holder, claim_path, try_claim

    layout = Layout(tmp_path)
    path = claim_path(layout, S27, "000000-000002")
    path.parent.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path.write_text(json.dumps({"run_id": "r0", "host": socket.gethostname(), "pid": dead.pid, "since": 0, "token": "x"}))
    claim, holder, taken = try_claim(path, Holder.me("r1"))
    assert claim is not None and holder is None and taken.run_id == "r0"
    again, holder, _ = try_claim(path, Holder.me("r2"))
    assert again is None and holder.run_id == "r1"  # alive: not taken over
    claim.release()
    assert not path.exists()


PROBE = """
import signal
import dagster as dg

@dg.asset
def one():
    return 1

def test_probe():
    dg.materialize([one])
    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN
"""


@pytest.mark.parametrize("with_our_conftest", [False, True])
def test_tests_started_with_sigint_ignored_do_not_end_up_ignoring_sigterm(tmp_path, with_our_conftest):
    # Dagster gives SIGTERM SIGINT's handler when an in-process run ends. Started in the background
    # (SIGINT ignored), a test process would then ignore SIGTERM, and so would the log tails Dagster
    # starts, each costing its 30 s timeout to stop; the suite's conftest prevents it.
    (tmp_path / "test_probe.py").write_text(PROBE)
    plugin = ["-p", "vsc_assets_tests.conftest"] if with_our_conftest else []
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", *plugin, "test_probe.py"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        capture_output=True, text=True, timeout=120,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    assert (result.returncode == 0) is with_our_conftest, result.stdout[-2000:]
