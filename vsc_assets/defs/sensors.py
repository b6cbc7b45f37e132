"""Refresh when source data changes: one sensor that registers partitions and requests runs."""

import json

import dagster as dg

from vsc_assets.defs.partitions import (
    disc21_partitions_def,
    query_videos_partitions_def,
    reference_videos_partitions_def,
)
from vsc_assets.defs.resources import VscRoot
from vsc_assets.platform.refresh import GROUPS, changed, take_snapshot

PARTITIONS = {p.name: p for p in (disc21_partitions_def, query_videos_partitions_def, reference_videos_partitions_def)}


def _not_materialized(instance: dg.DagsterInstance, fingerprints: dict) -> dict[tuple[str, str], list[str]]:
    """First look: every asset partition that has never been materialized."""
    out: dict[tuple[str, str], list[str]] = {}
    done = {}
    for name, digests in fingerprints.items():
        pdef, group = name.split("/")
        for asset in GROUPS[pdef][group]:
            done.setdefault(asset, instance.get_materialized_partitions(dg.AssetKey(asset)))
            for key in digests:
                if key not in done[asset]:
                    out.setdefault((pdef, key), []).append(asset)
    return out


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Rescans the data root every minute: registers partitions for new images and videos, "
    "and requests runs for the partitions whose inputs changed (new, replaced, or a changed ground truth).",
)
def data_change_sensor(context: dg.SensorEvaluationContext, vsc_root: VscRoot) -> dg.SensorResult:
    layout = vsc_root.layout()
    keys = {name: list(context.instance.get_dynamic_partitions(name)) for name in PARTITIONS}
    sizes = {name: vsc_root.sources_per_partition if name == disc21_partitions_def.name else vsc_root.videos_per_partition for name in PARTITIONS}
    snapshot, added = take_snapshot(layout, keys, sizes)
    if context.cursor:
        changes = changed(json.loads(context.cursor)["fingerprints"], snapshot.fingerprints)
    else:
        changes = _not_materialized(context.instance, snapshot.fingerprints)
    requests = []
    for (pdef, key), assets in sorted(changes.items()):
        digest = "-".join(snapshot.fingerprints[f"{pdef}/{g}"][key][:8] for g in GROUPS[pdef])
        requests.append(
            dg.RunRequest(
                run_key=f"{pdef}:{key}:{digest}",
                partition_key=key,
                asset_selection=[dg.AssetKey(a) for a in assets],
                tags={"vsc_assets/reason": "inputs changed" if context.cursor else "never materialized"},
            )
        )
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[PARTITIONS[name].build_add_request(k) for name, k in added.items() if k],
        cursor=json.dumps({"fingerprints": snapshot.fingerprints, "ground_truth": snapshot.ground_truth}),
    )
