"""Refresh when source data changes: one sensor that registers partitions and requests runs."""


import json

import dagster as dg

from vsc_assets.builders.frames import adopt_old_frame_folders
from vsc_assets.catalog.artifacts import Catalog
from vsc_assets.catalog.refresh import changed, groups, take_snapshot
from vsc_assets.defs.liveness import close_dead_runs
from vsc_assets.defs.partitions import partitions_def
from vsc_assets.defs.resources import VscRoot


def _not_materialized(instance: dg.DagsterInstance, fingerprints: dict, refreshes: dict) -> dict[tuple[str, str], list[str]]:
    """First look: every asset partition that has never been materialized."""
    out: dict[tuple[str, str], list[str]] = {}
    done = {}
    for name, digests in fingerprints.items():
        pdef = name.split("/")[0]
        for asset in refreshes[name]:
            done.setdefault(asset, instance.get_materialized_partitions(dg.AssetKey(asset)))
            for key in digests:
                if key not in done[asset]:
                    out.setdefault((pdef, key), []).append(asset)
    return out


TICK_SECONDS = 30  # how soon new or changed data is noticed; a tick costs about 1 s at 40,000 videos (docs/real-scale.md)


def data_change_sensor_for(catalog: Catalog, jobs: list) -> dg.SensorDefinition:
    """``jobs``: the job of each partitioning (Partitioning.job); every request names its job, so the daemon
    knows what to launch and the run shows its job and partition."""
    partitionings = {p.name: p for p in catalog.partitionings}
    refreshes = groups(catalog)

    @dg.sensor(
        name="data_change_sensor",
        jobs=jobs,
        minimum_interval_seconds=TICK_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Rescans the data root every {TICK_SECONDS} s: registers partitions for new images and videos, "
        "and requests runs for the partitions whose inputs changed (new, replaced, or a changed ground truth).",
    )
    def data_change_sensor(context: dg.SensorEvaluationContext, vsc_root: VscRoot) -> dg.SensorResult:
        for line in close_dead_runs(context.instance):  # runs of a `vsc-assets materialize` that was killed
            context.log.info(line)
        layout = vsc_root.layout()
        for note in adopt_old_frame_folders(layout):  # planning, before the fingerprints: frames under an old folder name
            context.log.info(note)
        keys = {name: list(context.instance.get_dynamic_partitions(name)) for name in partitionings}
        snapshot, added = take_snapshot(layout, keys, vsc_root.asked_sizes(), catalog)
        if context.cursor:
            changes = changed(json.loads(context.cursor)["fingerprints"], snapshot.fingerprints, catalog)
        else:
            changes = _not_materialized(context.instance, snapshot.fingerprints, refreshes)
        requests = []
        for (pdef, key), assets in sorted(changes.items()):
            labels = [g for g in refreshes if g.split("/")[0] == pdef]
            digest = "-".join(snapshot.fingerprints[g][key][:8] for g in labels)
            requests.append(
                dg.RunRequest(
                    run_key=f"{pdef}:{key}:{digest}",
                    job_name=partitionings[pdef].job,
                    partition_key=key,
                    asset_selection=[dg.AssetKey(a) for a in assets],
                    tags={"vsc_assets/reason": "inputs changed" if context.cursor else "never materialized"},
                )
            )
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=[
                partitions_def(partitionings[name]).build_add_request(k) for name, k in added.items() if k
            ],
            cursor=json.dumps({"fingerprints": snapshot.fingerprints, "ground_truth": snapshot.ground_truth}),
        )

    return data_change_sensor
