"""The whole Definitions object loads, and every artifact of the recipe is in it."""

from __future__ import annotations

import dagster as dg
import pytest

from vsc_assets.catalog.artifacts import CATALOG, DISC21_SOURCES
from vsc_assets.definitions import defs

DISC21_SETS = [a.name for a in CATALOG.partitioned_by(DISC21_SOURCES)]


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    spec_artifacts = {*DISC21_SETS, "query_frames", "reference_frames", "training_images_ref1", "train_v1_s3_r1_all", "positive_pairs"}
    assert spec_artifacts | {"disc21_training_images", "vsc_query_videos", "vsc_reference_videos", "vsc_ground_truth"} <= keys


def test_sets_are_partitioned_checked_and_retried(tmp_path):
    from vsc_assets.defs.assets import RETRY
    from vsc_assets.layout import Layout
    from vsc_assets.runs.instance import open_instance

    graph = defs.resolve_asset_graph()
    for name in DISC21_SETS:
        node = graph.get(dg.AssetKey(name))
        assert node.partitions_def.name == "disc21_sources"
        checks = {k.name for k in node.check_keys}
        assert checks == {"files_per_source", "decodable_256", "names_parse", "digests_sampled"}
    # A step that raised is retried by the asset's policy; a run whose process died, by the instance.
    for artifact in CATALOG.artifacts:
        policy = defs.resolve_assets_def(artifact.name).op.retry_policy
        assert policy == RETRY and policy.max_retries == 2 and policy.delay == 2
    instance = open_instance(Layout(tmp_path))  # the shipped dagster.yaml
    assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
    assert instance.run_retries_retry_on_asset_or_op_failure is False  # the policy above retries those, not whole runs


def test_grey_sets_depend_on_their_colour_set():
    graph = defs.resolve_asset_graph()
    for name in ("train_v1_s27_all", "train_v1_s3_all"):
        parents = graph.get(dg.AssetKey(name + "_bw")).parent_keys
        assert parents == {dg.AssetKey(name)}


def test_resource_reads_root_at_run_time_not_import(monkeypatch, tmp_path):
    from vsc_assets.defs.resources import VscRoot

    monkeypatch.setenv("VSC_ROOT", str(tmp_path))
    assert VscRoot().layout().root == tmp_path.resolve()
    monkeypatch.delenv("VSC_ROOT")
    assert VscRoot().layout().root.name == "vsc-data"
    assert VscRoot(root=str(tmp_path / "x")).layout().root == (tmp_path / "x").resolve()


def test_vsc_assets_are_partitioned_by_video_ranges():
    graph = defs.resolve_asset_graph()
    expected = {
        "query_frames": "query_videos",
        "pair_frames": "query_videos",
        "reference_frames": "reference_videos",
        "training_images_ref1": "reference_videos",
        "train_v1_s3_r1_all": "reference_videos",
    }
    for name, pdef in expected.items():
        assert graph.get(dg.AssetKey(name)).partitions_def.name == pdef
    pairs = graph.get(dg.AssetKey("positive_pairs"))
    assert pairs.partitions_def is None and dg.AssetKey("pair_frames") in pairs.parent_keys
    assert {k.name for k in pairs.check_keys} == {"pair_files_exist", "pickles_match_folders", "digests_sampled"}


def test_runs_execute_steps_in_process_so_workers_times_runs_match_the_cores(tmp_path):
    from vsc_assets.parallel import default_workers
    from vsc_assets.defs.resources import VscRoot

    assert defs.executor is dg.in_process_executor
    (tmp_path / "dagster.yaml").write_text("concurrency:\n  runs:\n    max_concurrent_runs: 2\n")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    assert VscRoot().worker_count(instance) == default_workers()  # a lone run takes every core
    _runs_in_flight(instance, 3)
    assert VscRoot().worker_count(instance) == max(1, default_workers() // 2)  # a backfill's: their share, two at once
    assert VscRoot().worker_count(None) == default_workers()
    assert VscRoot(workers=3).worker_count(instance) == 3


def _runs_in_flight(instance, count: int) -> None:
    import uuid

    for _ in range(count):
        instance.add_run(dg.DagsterRun(job_name="disc21_sets", run_id=str(uuid.uuid4()), status=dg.DagsterRunStatus.STARTED))


def test_shipped_instance_config_turns_off_first_visit_prompts(tmp_path):
    from vsc_assets.layout import Layout
    from vsc_assets.runs.instance import open_instance

    instance = open_instance(Layout(tmp_path))  # copies the shipped dagster.yaml into a new instance
    assert (tmp_path / ".dagster" / "dagster.yaml").is_file()
    assert instance.nux_enabled is False  # no newsletter / onboarding prompt in the UI
    assert instance.get_settings("telemetry") == {"enabled": False}


def test_a_new_instance_runs_one_run_per_core_and_looks_for_queued_runs_every_second(tmp_path):
    """A run the daemon launches leaves its cores idle for seconds: many one-worker runs hide that."""
    import dagster as dg

    from vsc_assets.defs.resources import VscRoot
    from vsc_assets.layout import Layout
    from vsc_assets.parallel import default_workers
    from vsc_assets.runs.instance import local_instance_config, open_instance

    instance = open_instance(Layout(tmp_path))
    assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == default_workers()
    assert instance.run_coordinator.dequeue_interval_seconds == 1
    assert VscRoot().worker_count(instance) == default_workers()  # one partition from the UI: every core
    _runs_in_flight(instance, default_workers() + 3)
    assert VscRoot().worker_count(instance) == 1  # a backfill's run: one core each
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "dagster.yaml").write_text(local_instance_config(64))
    big = dg.DagsterInstance.from_config(str(tmp_path / "big"))
    assert big.get_concurrency_config().run_queue_config.max_concurrent_runs == 64


def test_each_job_has_a_celery_twin_and_keeps_the_in_process_executor():
    """With the cluster extra (installed in CI) the `_cluster` jobs exist, and only they use Celery."""
    from vsc_assets.defs.cluster import celery_executor

    if celery_executor is None:
        pytest.skip("dagster-celery is not installed (pip install -e '.[cluster]'): no *_cluster jobs to check")
    plain = {"disc21_sets", "reference_videos_job", "query_videos_job", "positive_pairs_job"}
    for name in plain:
        job = defs.resolve_job_def(name)
        twin = defs.resolve_job_def(name + "_cluster")
        assert job.executor_def.name == "in_process" and twin.executor_def.name == "celery"
        assert set(job.asset_layer.executable_asset_keys) == set(twin.asset_layer.executable_asset_keys)


def test_postgres_instance_config_takes_its_connection_from_the_environment():
    import yaml

    from vsc_assets.runs.instance import CLUSTER_INSTANCE_CONFIG

    db = yaml.safe_load(CLUSTER_INSTANCE_CONFIG.read_text())["storage"]["postgres"]["postgres_db"]
    assert {k: v for k, v in db.items() if k != "scheme"} == {
        "hostname": {"env": "VSC_PG_HOST"}, "port": {"env": "VSC_PG_PORT"}, "username": {"env": "VSC_PG_USER"},
        "password": {"env": "VSC_PG_PASSWORD"}, "db_name": {"env": "VSC_PG_DB"},
    }  # fmt: skip


def test_every_asset_carries_the_version_its_manifests_carry_as_its_code_version():
    from vsc_assets.definitions import definitions_for

    for randomness in ("published", "per_image"):
        graph = (defs if randomness == "published" else definitions_for(CATALOG, randomness)).resolve_asset_graph()
        for artifact in CATALOG.artifacts:
            assert graph.get(dg.AssetKey(artifact.name)).code_version == artifact.version_for(randomness)
    assert definitions_for(CATALOG, "per_image").resolve_asset_graph().get(dg.AssetKey("train_v1_s27_all")).code_version.endswith("+per_image")


def test_the_sensor_targets_the_job_of_every_partitioning_and_every_artifact_has_a_job():
    sensor = defs.resolve_sensor_def("data_change_sensor")
    assert sorted(j.name for j in sensor.jobs) == sorted(p.job for p in CATALOG.partitionings)
    for artifact in CATALOG.artifacts:
        job = defs.resolve_job_def(artifact.job)
        assert dg.AssetKey(artifact.name) in job.asset_layer.executable_asset_keys


def test_shipped_instance_config_queues_one_run_per_partition_and_watches_runs(tmp_path):
    from vsc_assets.layout import Layout
    from vsc_assets.runs.instance import open_instance

    instance = open_instance(Layout(tmp_path))
    limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
    assert {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits
    assert instance.run_monitoring_enabled
