"""More than one worker, for real on loopback: a Postgres instance, Redis, two Celery workers
started as their own processes, and the daemon running a backfill of the `*_cluster` job.

The test starts every server and process it uses, and stops them all.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import dagster as dg
import pytest
from PIL import Image

from vsc_assets.io.atomic import TEMP_PREFIX
from vsc_assets.io.manifest import read_manifest
from vsc_assets.layout import Layout
from vsc_assets_tests.support import DISC21_SETS, make_root
from vsc_assets_tests.dagster_processes import stop_sensor
from vsc_assets_tests.servers import cmdline, descendants, missing_servers, postgres_server, redis_server, started, wait_until

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SOURCES, PER_PARTITION = 8, 2  # four partitions
# Long enough for any step of this test; short so a dead worker's step moves on soon.
TEST_VISIBILITY_TIMEOUT = 15


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.jpg"))}


def _materializations(instance: dg.DagsterInstance) -> list[dg.AssetMaterialization]:
    found = []
    for name in DISC21_SETS:
        result = instance.fetch_materializations(dg.AssetKey(name), limit=1000)
        found += [r.asset_materialization for r in result.records]
    return found


def _celery_process(worker: subprocess.Popen) -> int | None:
    """The `celery ... worker` process under `vsc-assets worker`: the one that runs the steps."""
    return next((p for p in descendants(worker.pid) if "dagster_celery.app worker" in cmdline(p)), None)


def _running_on(instance: dg.DagsterInstance, worker: str) -> tuple[str, str] | None:
    """(asset, partition) of the step ``worker`` is executing now, from the runs' engine events."""
    for run in instance.get_runs():
        logs = instance.all_logs(run.run_id)
        done = {e.step_key for e in logs if e.dagster_event and e.dagster_event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE")}
        for entry in logs:
            event = entry.dagster_event
            if event is None or event.event_type_value != "ENGINE_EVENT" or entry.step_key in done:
                continue
            meta = event.engine_event_data.metadata if event.engine_event_data else {}
            if "Celery worker" in meta and str(meta["Celery worker"].value).startswith(f"{worker}@"):
                return entry.step_key, run.tags["dagster/partition"]
    return None


def _mid_step(layout: Layout, step: tuple[str, str] | None) -> bool:
    """A colour step that has written some of its files and not its manifest yet."""
    if step is None or step[0] not in DISC21_SETS[:2]:
        return False
    name, key = step
    first = int(key.split("-")[0])
    return (layout.set_dir(name) / f"{first}_5.jpg").exists() and not layout.manifest_path(name, key).exists()


def run_cluster_backfill(base: Path, workers: int, kill_one: bool, setenv) -> tuple[dict, Layout]:
    """Backfill the four partitions of `disc21_sets_cluster` on ``workers`` Celery workers; the figures."""
    figures: dict = {"workers": workers}
    root = make_root(base, count=SOURCES * 10)
    home = root / ".dagster-cluster"  # what `--instance postgres` makes from vsc_assets/cluster/dagster.yaml
    celery_config = base / "celery.yaml"
    shipped = (REPO / "vsc_assets" / "cluster" / "celery.yaml").read_text()
    celery_config.write_text(shipped.replace("visibility_timeout: 3600", f"visibility_timeout: {TEST_VISIBILITY_TIMEOUT}"))
    layout = Layout(root)
    with ExitStack() as stack:
        pg = stack.enter_context(postgres_server())
        broker = stack.enter_context(redis_server())
        ambient = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "VSC_ROOT")}
        subprocess.run([str(BIN / "vsc-assets"), "register", "--root", str(root), "--instance", "postgres",
                        "--sources-per-partition", str(PER_PARTITION)], env={**ambient, **pg.env()}, check=True, capture_output=True, timeout=300)  # fmt: skip
        assert (home / "dagster.yaml").read_text() == (REPO / "vsc_assets" / "cluster" / "dagster.yaml").read_text()
        env = {**pg.env(), "DAGSTER_HOME": str(home), "VSC_ROOT": str(root), "VSC_CELERY_BROKER": broker, "VSC_CELERY_BACKEND": broker}
        names = [f"w{i + 1}" for i in range(workers)]
        procs = {
            name: stack.enter_context(started(
                [str(BIN / "vsc-assets"), "worker", "--root", str(root), "--name", name, "--config", str(celery_config), "--step-workers", "1"],
                env, base / f"{name}.log",
            ))  # fmt: skip
            for name in names
        }
        stop_sensor(env)  # its requests run the in-process jobs; here every step is to go to a Celery worker
        daemon = stack.enter_context(started([str(BIN / "dagster-daemon"), "run", "-w", str(REPO / "workspace.yaml")], env, base / "daemon.log", cwd=REPO))
        for key, value in env.items():  # the test's own view of the same instance
            setenv(key, value)
        instance = stack.enter_context(dg.DagsterInstance.get())
        keys = sorted(instance.get_dynamic_partitions("disc21_sources"))
        assert len(keys) == SOURCES // PER_PARTITION
        for name in names:  # each worker has connected to the broker
            wait_until(lambda name=name: _celery_process(procs[name]) and "ready" in (base / f"{name}.log").read_text(), 180, f"worker {name}")
        started_at = time.monotonic()
        subprocess.run(
            [str(BIN / "dagster"), "job", "backfill", "-w", str(REPO / "workspace.yaml"), "-j", "disc21_sets_cluster",
             "--partitions", ",".join(keys), "--noprompt"],
            cwd=REPO, env={**os.environ, **env}, check=True, capture_output=True, timeout=300,
        )  # fmt: skip

        def alive() -> None:
            assert daemon.poll() is None, (base / "daemon.log").read_text()[-3000:]

        if kill_one:
            # w1 has built something, and is now in the middle of another colour step.
            def w1_busy():
                alive()
                built = any(m.metadata["worker"].value.startswith("w1@") for m in _materializations(instance))
                step = _running_on(instance, "w1") if built else None
                return step if _mid_step(layout, step) else None

            figures["killed_mid"] = list(wait_until(w1_busy, 400, "w1 in the middle of a colour step", interval=0.1))
            os.kill(_celery_process(procs["w1"]), signal.SIGKILL)
            killed_at = time.time()

        def finished():
            alive()
            runs = instance.get_runs()
            return len(runs) >= len(keys) and all(r.is_finished for r in runs) and runs

        runs = wait_until(finished, 600, "every partition run to finish", interval=1)
        figures["wall_s"] = round(time.monotonic() - started_at, 1)
        materializations = _materializations(instance)
        figures["steps_per_worker"] = {
            name: sum(m.metadata["worker"].value.startswith(f"{name}@") for m in materializations) for name in names
        }
        if kill_one:
            name, key = figures["killed_mid"]
            redone = [r for r in instance.fetch_materializations(dg.AssetKey(name), limit=1000).records if r.partition_key == key]
            figures["killed_step_redone_on"] = [r.asset_materialization.metadata["worker"].value for r in redone]
            figures["recovery_s"] = round(max(r.timestamp for r in redone) - killed_at, 1)
            # The worker offered the killed step again found w1's claim on the partition, and took it over.
            figures["takeover_logged"] = [
                e.user_message for r in instance.get_runs() for e in instance.all_logs(r.run_id) if "took over the claim" in (e.user_message or "")
            ]
        figures["runs"] = sorted((r.tags["dagster/partition"], r.status.value) for r in runs)
        figures["postgres_runs"] = int(pg.query("select count(*) from runs"))
        figures["postgres_events"] = int(pg.query("select count(*) from event_logs"))
        figures["storage"] = type(instance.run_storage).__name__
    return figures, layout


@pytest.mark.skipif(bool(missing_servers()), reason=f"needs {', '.join(missing_servers())}")
def test_two_celery_workers_backfill_through_postgres_and_survive_a_killed_worker(tmp_path, monkeypatch):
    figures, layout = run_cluster_backfill(tmp_path / "cluster", workers=2, kill_one=True, setenv=monkeypatch.setenv)
    print(json.dumps(figures))
    assert [status for _, status in figures["runs"]] == ["SUCCESS"] * 4, figures
    # Steps ran on both workers; the killed step was finished by the other one.
    assert all(n > 0 for n in figures["steps_per_worker"].values()), figures
    assert any(w.startswith("w2@") for w in figures["killed_step_redone_on"]), figures
    assert figures["takeover_logged"] and "which is gone" in figures["takeover_logged"][0], figures
    # Runs and events live in Postgres.
    assert figures["storage"] == "PostgresRunStorage" and figures["postgres_runs"] >= 4 and figures["postgres_events"] > 100

    # Whole, and nothing twice: every file decodes, no temp file is left, each manifest row once.
    for name in DISC21_SETS:
        folder = layout.set_dir(name)
        files = sorted(folder.iterdir())
        assert not [p for p in files if p.name.startswith(TEMP_PREFIX)] and len(files) == SOURCES * 20
        for path in files:
            with Image.open(path) as im:
                im.load()
        rows = [r["name"] for key in ("000000-000001", "000002-000003", "000004-000005", "000006-000007") for r in read_manifest(layout.manifest_path(name, key))]
        assert len(rows) == len(set(rows)) == SOURCES * 20
    assert not [p for p in (layout.root / ".staging").rglob("*") if p.is_file()]

    # Byte for byte what one machine makes from the same images.
    single = make_root(tmp_path / "single", count=SOURCES * 10)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_HOME", "VSC_"))}
    subprocess.run([str(BIN / "vsc-assets"), "materialize", "--root", str(single), "--select", ",".join(DISC21_SETS),
                    "--sources-per-partition", str(PER_PARTITION)], env=env, check=True, capture_output=True, timeout=600)  # fmt: skip
    for name in DISC21_SETS:
        assert _digests(layout.set_dir(name)) == _digests(Layout(single).set_dir(name)), name
