"""Every way a user drives the platform, through real Dagster processes on a root the test builds.

Refresh when the data changes (the daemon's sensors), backfills that survive a
lost run process (UI, CLI, a single run), the UI's backfill, and the plain
Dagster CLI. Nothing here calls a sensor's or an asset's function: the daemon,
the webserver and the CLIs do, and the tests read the instance and the disk.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from fractions import Fraction
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus  # what a backfill's status reads; not exported by dagster

from vsc_assets.catalog.artifacts import CATALOG, DISC21_SOURCES, REFERENCE_VIDEOS
from vsc_assets.layout import Layout
from vsc_assets.parallel import default_workers
from vsc_assets_tests.dagster_processes import (
    BIN,
    REPO,
    Dagster,
    dagster_processes,
    env_for,
    failed_ticks,
    materialized_partitions,
    partition_runs,
    run_cli,
    sensor_ticks,
    tree_bytes,
)
from vsc_assets_tests.servers import started
from vsc_assets_tests.support import free_port, make_images, wait_for
from vsc_assets_tests.video_oddities import write_numbered

pytestmark = pytest.mark.daemon

DISC21_SETS = tuple(a.name for a in CATALOG.partitioned_by(DISC21_SOURCES))
REFERENCE_ASSETS = tuple(a.name for a in CATALOG.partitioned_by(REFERENCE_VIDEOS))
GT_HEADER = "query_id,ref_id,query_start,query_end,ref_start,ref_end\n"
FPS = Fraction(25)


def _videos(root: Path, references=("R100000", "R100011"), queries=("Q200000", "Q200012"), frames: int = 60) -> None:
    train = root / "data" / "train"
    for name in references:
        write_numbered(train / "reference" / f"{name}.mp4", FPS, frames)
    for name in queries:
        write_numbered(train / "query" / f"{name}.mp4", FPS, frames)


def _materializations_since(instance, name: str, key: str | None, since: float) -> list:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(dg.AssetKey(name), asset_partitions=[key] if key else None), limit=100
    ).records
    return [r for r in records if r.timestamp > since]


# ------------------------------------------------------------------ refresh when the data changes


def test_refresh_new_images_a_replaced_video_and_a_changed_row_through_the_daemon(tmp_path):
    root = tmp_path / "root"
    make_images(root / "data" / "training_images", 40)  # sources 0-3
    _videos(root)
    ground_truth = root / "data" / "train" / "train_matching_ground_truth.csv"
    ground_truth.write_text(GT_HEADER + "Q200000,R100000,0,2,0,2\nQ200012,R100011,0,2,0,2\n")
    # A user builds the root once from the command line, then leaves the rest to the daemon.
    run_cli(root, "vsc-assets", "materialize", "--root", str(root), "--sources-per-partition", "2", "--videos-per-partition", "10", timeout=600)
    layout = Layout(root)
    make_images(layout.disc21_dir, 60)  # sources 4 and 5 arrive before the daemon starts

    with dagster_processes(root, tmp_path / "logs") as dagster:
        instance = dagster.instance
        # The first tick registers a key for the new sources, sized as the root's first keys were,
        # and asks the job of that partitioning to build it.
        new = dagster.wait(lambda: partition_runs(instance, "000004-000005", statuses=[dg.DagsterRunStatus.SUCCESS]), 240, "the new sources' run")
        assert list(instance.get_dynamic_partitions("disc21_sources")) == ["000000-000001", "000002-000003", "000004-000005"]
        assert new[0].job_name == "disc21_sets" and new[0].asset_selection == {dg.AssetKey(n) for n in DISC21_SETS}
        for name in DISC21_SETS:
            assert all((layout.set_dir(name) / f"{pid}_{j}.jpg").is_file() for pid in (4, 5) for j in range(20)), name

        # A query video and a reference video replaced by other bytes (longer: 4.4 s, so frames 0-3 where
        # there were 0-1), and a ground-truth row of the other query partition changed. One later tick
        # picks up all three.
        ticks_before = sensor_ticks(instance, "data_change_sensor")
        changed_at = time.time()
        write_numbered(layout.videos_dir("query") / "Q200000.mp4", FPS, 110)
        write_numbered(layout.videos_dir("reference") / "R100000.mp4", FPS, 110)
        ground_truth.write_text(GT_HEADER + "Q200000,R100000,0,2,0,2\nQ200012,R100011,0,2.4,0,2\n")

        def succeeded(key):
            return partition_runs(instance, key, statuses=[dg.DagsterRunStatus.SUCCESS], created_after=_dt(changed_at))

        def rebuilt():
            found = {key: succeeded(key) for key in ("100000-100009", "200000-200009", "200010-200019")}
            pairs = _materializations_since(instance, "positive_pairs", None, changed_at)
            return (found, pairs) if all(found.values()) and pairs else None

        found, pairs = dagster.wait(rebuilt, 240, "the replaced videos' and the changed row's runs, then the pair table")
        assert sensor_ticks(instance, "data_change_sensor") > ticks_before
        # Each request names its partitioning's job, its partition and only the assets whose inputs changed.
        assert [(r.job_name, r.asset_selection) for r in found["100000-100009"]] == [("reference_videos_job", {dg.AssetKey(n) for n in REFERENCE_ASSETS})]
        assert [(r.job_name, r.asset_selection) for r in found["200000-200009"]] == [("query_videos_job", {dg.AssetKey("query_frames"), dg.AssetKey("pair_frames")})]
        assert [(r.job_name, r.asset_selection) for r in found["200010-200019"]] == [("query_videos_job", {dg.AssetKey("pair_frames")})]
        assert not _materializations_since(instance, "query_frames", "200010-200019", changed_at)
        assert not _materializations_since(instance, "reference_frames", "100010-100019", changed_at)
        # The pair table follows through its automation, after both pair-frame partitions are rebuilt.
        latest_pair_frames = max(r.timestamp for key in ("200000-200009", "200010-200019")
                                 for r in _materializations_since(instance, "pair_frames", key, changed_at))  # fmt: skip
        assert max(p.timestamp for p in pairs) > latest_pair_frames
        for kind, video in (("query", "Q200000"), ("reference", "R100000")):
            frames = sorted(p.name for p in layout.frames_dir(kind).glob(f"{video}_*.jpg"))
            assert frames == [f"{video}_{k}.jpg" for k in range(4)], kind
        # The middle second of 0-3 now, where it was 1 of 0-1; the old file is gone.
        assert sorted(p.name for p in layout.selected_frames_dir.glob("R100000_*.jpg")) == ["R100000_2.jpg"]

        assert failed_ticks(instance) == {}
        assert not instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))


def _dt(timestamp: float):
    from datetime import datetime, timezone

    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


# ------------------------------------------------------------------ backfills that survive a lost run


class Killer:
    """Kills, with SIGKILL (as the OOM killer does), the process of the first run each pick matches,
    the moment that run holds a partition's claim: that is, while it builds."""

    def __init__(self, root: Path, instance: dg.DagsterInstance, picks: dict):
        self.root, self.instance, self.picks = root, instance, dict(picks)
        self.killed: dict[str, dg.DagsterRun] = {}
        self._runs: dict[str, dg.DagsterRun | None] = {}

    def _run(self, run_id: str):
        if run_id not in self._runs:
            self._runs[run_id] = self.instance.get_run_by_id(run_id)
        return self._runs[run_id]

    def poll(self) -> bool:
        """One look; True once every pick has had its kill."""
        for claim in (self.root / ".claims").glob("*/*.json"):
            try:
                holder = json.loads(claim.read_text())
            except (OSError, ValueError):
                continue
            run = self._run(holder["run_id"])
            for what, pick in list(self.picks.items()):
                if run is not None and pick(run):
                    os.kill(int(holder["pid"]), signal.SIGKILL)
                    self.killed[what] = run
                    del self.picks[what]
        return not self.picks


def test_runs_killed_mid_build_are_retried_until_every_backfill_is_whole(tmp_path):
    root = tmp_path / "root"
    make_images(root / "data" / "training_images", 120)  # 12 sources: 3 keys of 4, a few seconds of work each
    expected_root = tmp_path / "expected"
    shutil.copytree(root / "data", expected_root / "data")
    run_cli(root, "vsc-assets", "register", "--root", str(root), "--sources-per-partition", "4")
    keys = ["000000-000003", "000004-000007", "000008-000011"]
    layout = Layout(root)

    with dagster_processes(root, tmp_path / "logs", webserver=True) as dagster:
        instance = dagster.instance
        assert list(instance.get_dynamic_partitions("disc21_sources")) == keys
        # The UI: the asset graph's Materialize, a partition chosen, which launches an asset backfill.
        launched = dagster.graphql(
            "mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {"
            " __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }",
            {"p": {"assetSelection": [{"path": [n]} for n in DISC21_SETS], "partitionNames": keys[:1]}},
        )["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        ui = launched["backfillId"]
        # The command line: the same kind of backfill, of the second key.
        said = run_cli(root, "vsc-assets", "backfill", "--root", str(root), "--select", ",".join(DISC21_SETS), "--partitions", keys[1]).stdout
        cli = json.loads(said.strip().splitlines()[-1])["backfill_id"]
        # A single run of the third key, as the UI's Materialize of one partition launches it.
        single = dagster.graphql(
            "mutation($e: ExecutionParams!) { launchRun(executionParams: $e) {"
            " __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }",
            {"e": {"selector": {"repositoryLocationName": "vsc_assets.definitions", "repositoryName": "__repository__",
                                "jobName": DISC21_SOURCES.job, "assetSelection": [{"path": [n]} for n in DISC21_SETS]},
                   "executionMetadata": {"tags": [{"key": "dagster/partition", "value": keys[2]}]}}},
        )["launchRun"]  # fmt: skip
        assert single["__typename"] == "LaunchRunSuccess", single
        single_id = single["run"]["runId"]

        killer = Killer(root, instance, {
            "ui": lambda r: r.tags.get("dagster/backfill") == ui,
            "cli": lambda r: r.tags.get("dagster/backfill") == cli,
            "single": lambda r: r.run_id == single_id,
        })  # fmt: skip
        dagster.wait(killer.poll, 240, "a run of each launch to hold a claim", every=0.05)

        def ended(backfill_id):
            backfill = instance.get_backfill(backfill_id)
            if backfill.status == BulkActionStatus.REQUESTED:
                return None
            # The moment it ends, every partition it covers is whole.
            return backfill.status, materialized_partitions(instance, DISC21_SETS)

        for backfill_id, covered in ((ui, {keys[0]}), (cli, {keys[1]})):
            status, done = dagster.wait(lambda: ended(backfill_id), 300, f"backfill {backfill_id} to end")
            assert status == BulkActionStatus.COMPLETED_SUCCESS, status
            assert all(covered <= done[name] for name in DISC21_SETS), (covered, done)
        dagster.wait(
            lambda: [r for r in instance.get_runs(filters=dg.RunsFilter(tags={"dagster/parent_run_id": single_id})) if r.is_success],
            300, "the single run's retry to succeed",
        )  # fmt: skip
        runs = instance.get_runs()
        assert all(r.is_finished for r in runs)
        # Each killed run failed, was retried by Dagster's run-retry daemon, and its retry succeeded.
        for what, killed in killer.killed.items():
            assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE, what
            children = [r for r in runs if r.tags.get("dagster/parent_run_id") == killed.run_id]
            assert [r.status for r in children] == [dg.DagsterRunStatus.SUCCESS], (what, children)
            assert children[0].tags.get("dagster/backfill") == killed.tags.get("dagster/backfill"), what
        assert len([r for r in runs if r.is_failure]) == 3, _failures(instance, runs)
        assert materialized_partitions(instance, DISC21_SETS) == {name: set(keys) for name in DISC21_SETS}

    # Byte for byte what an uninterrupted build of the same data writes, and nothing half-written left.
    run_cli(expected_root, "vsc-assets", "materialize", "--root", str(expected_root), "--sources-per-partition", "4",
            "--select", ",".join(DISC21_SETS), timeout=600)  # fmt: skip
    ours, theirs = tree_bytes(layout.images_dir), tree_bytes(Layout(expected_root).images_dir)
    assert len(ours) == 4 * 12 * 20 and ours.keys() == theirs.keys() and ours == theirs
    assert not [p for p in (root / ".staging").rglob("*") if p.is_file()] and not list((root / ".claims").rglob("*.json"))


# ------------------------------------------------------------------ the plain Dagster CLI


def test_register_then_dagster_asset_materialize_and_dg_launch(tmp_path):
    """Exactly as the README says, with no daemon: `vsc-assets register`, then Dagster's own commands."""
    root = tmp_path / "root"
    make_images(root / "data" / "training_images", 40)
    layout = Layout(root)
    run_cli(root, "vsc-assets", "register", "--root", str(root), "--sources-per-partition", "2")
    run_cli(root, "dagster", "asset", "materialize", "-m", "vsc_assets.definitions",
            "--select", "train_v1_s27_all,train_v1_s27_all_bw", "--partition", "000002-000003")  # fmt: skip
    run_cli(root, "dg", "launch", "--assets", "train_v1_s3_all", "--partition", "000000-000001")
    assert "All definitions loaded successfully" in run_cli(root, "dg", "check", "defs").stdout
    instance = dg.DagsterInstance.from_config(str(layout.dagster_home))
    assert materialized_partitions(instance, ("train_v1_s27_all", "train_v1_s27_all_bw", "train_v1_s3_all")) == {
        "train_v1_s27_all": {"000002-000003"}, "train_v1_s27_all_bw": {"000002-000003"}, "train_v1_s3_all": {"000000-000001"},
    }  # fmt: skip
    # A lone run, nothing else queued or in flight, takes every core (VscRoot.worker_count).
    (made,) = instance.fetch_materializations(dg.AssetKey("train_v1_s27_all"), limit=1).records
    assert made.asset_materialization.metadata["workers"].value == default_workers()
    for name, pids in (("train_v1_s27_all", (2, 3)), ("train_v1_s27_all_bw", (2, 3)), ("train_v1_s3_all", (0, 1))):
        assert sorted(p.name for p in layout.set_dir(name).glob("*.jpg")) == sorted(f"{pid}_{j}.jpg" for pid in pids for j in range(20))
    # `dg dev`: the webserver and the daemon of the project, its code location loaded without error.
    port = free_port()
    with started([str(BIN / "dg"), "dev", "-p", str(port), "--host", "127.0.0.1"], env_for(root), tmp_path / "dg-dev.log", REPO):
        def location():
            with contextlib.suppress(OSError, AssertionError, KeyError):
                entries = Dagster(root, port=port).graphql(
                    "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus"
                    " locationOrLoadError { __typename } } } } }", timeout=10,
                )["workspaceOrError"]["locationEntries"]  # fmt: skip
                return entries if entries and entries[0]["loadStatus"] == "LOADED" else None

        entries = wait_for(location, 180, "dg dev to serve the loaded code location", every=1)
        assert [(e["name"], e["locationOrLoadError"]["__typename"]) for e in entries] == [("vsc_assets.definitions", "RepositoryLocation")]
    # New images later: `register` sizes their key as the root's first keys were, not at the default 500.
    make_images(layout.disc21_dir, 60)
    said = json.loads(run_cli(root, "vsc-assets", "register", "--root", str(root)).stdout)
    assert said["added"]["disc21_sources"] == ["000004-000005"]


def _failures(instance, runs) -> str:
    """Each failed run with its partition and its last failure message: what a surprise failure was."""
    lines = []
    for run in runs:
        if run.is_failure:
            events = [e for e in instance.all_logs(run.run_id) if e.is_dagster_event and e.dagster_event.event_type_value in ("RUN_FAILURE", "STEP_FAILURE", "ENGINE_EVENT")]
            lines.append(f"{run.run_id} {run.job_name} {run.tags.get('dagster/partition')}: " + " | ".join((e.message or "")[:300] for e in events[-3:]))
    return "\n".join(lines)
