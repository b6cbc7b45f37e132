"""Each declared artifact as a Dagster asset: the asset boundary, where a partition key is parsed once.

A step claims its partition before building it (catalog.claims): whoever else
holds it, a CLI, the daemon's runs or a Celery worker on another machine, the
step waits, says whom for, and then counts the partition as done if it came
out whole meanwhile.
"""

import time

import dagster as dg

from vsc_assets import progress, stopping
from vsc_assets.augment.families import PUBLISHED
from vsc_assets.catalog.artifacts import Artifact, BuildContext, Catalog, InputSpec
from vsc_assets.catalog.claims import Claim, Holder, claim_path, try_claim
from vsc_assets.defs.partitions import partitions_def
from vsc_assets.defs.resources import VscRoot
from vsc_assets.defs.results import fail_fast, materialize_result, progress_logger
from vsc_assets.keys import IdRange

RETRY = dg.RetryPolicy(max_retries=2, delay=2)
WAIT_NOTE_EVERY = 30.0  # seconds between "still waiting" lines


def input_spec(spec: InputSpec) -> dg.AssetSpec:
    return dg.AssetSpec(spec.name, group_name=spec.group, description=spec.description, kinds=set(spec.kinds))


def _upstream_keys(context: dg.AssetExecutionContext, artifact: Artifact, catalog: Catalog) -> tuple[str, ...]:
    """For an unpartitioned artifact: every registered key of its partitioned upstream artifacts."""
    keys: set[str] = set()
    for dep in artifact.deps:
        if dep in catalog.names and catalog[dep].partitioning is not None:
            keys.update(context.instance.get_dynamic_partitions(catalog[dep].partitioning.name))
    return tuple(sorted(keys))


def _say(context: dg.AssetExecutionContext, text: str) -> None:
    """In the run's log, and on the console of a CLI running this step."""
    context.log.info(text)
    progress.say(text)


def _claim(context: dg.AssetExecutionContext, build: BuildContext, artifact: Artifact) -> tuple[Claim, Holder | None]:
    """This partition's claim, once nobody else alive holds it; and whom this step waited for."""
    where = f"{artifact.name} {build.key}"
    path = claim_path(build.layout, artifact.name, build.key)
    waited_for, noted = None, 0.0
    while True:
        claim, holder, taken_from = try_claim(path, Holder.me(context.run.run_id))
        if claim is not None:
            if taken_from is not None:
                _say(context, f"{where}: took over the claim of {taken_from}, which is gone; building it again")
            elif waited_for is not None:
                _say(context, f"{where}: {waited_for} is done with it")
            return claim, waited_for
        if holder != waited_for or time.monotonic() - noted > WAIT_NOTE_EVERY:
            _say(context, f"{where}: being built by {holder}; waiting for it")
            waited_for, noted = holder, time.monotonic()
        stopping.check()
        time.sleep(1.0)


PLANNED_AT_TAG = "vsc_assets/planned_at"  # when the launcher last saw this run's partitions to do (seconds)


def _finished_meanwhile(context: dg.AssetExecutionContext, build: BuildContext, artifact: Artifact) -> bool:
    """Whether someone else made this partition whole, in this version, since this run was planned
    (by `vsc-assets materialize`, which says when in a tag) or created (by the daemon)."""
    key = build.ids.key if build.ids else None
    record = context.instance.get_run_record_by_id(context.run.run_id)
    if record is None or not artifact.whole_in(build.layout, key, build.version):
        return False
    since = record.create_timestamp.timestamp()
    if PLANNED_AT_TAG in context.run.tags:
        since = min(since, float(context.run.tags[PLANNED_AT_TAG]))
    if build.layout.manifest_path(artifact.name, build.key).stat().st_mtime > since:
        return True
    # The other builder writes its manifest, then records the materialization: a plan made between
    # the two saw the partition missing although its manifest is older than the plan.
    latest = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(dg.AssetKey(artifact.name), asset_partitions=[key] if key else None), limit=1
    ).records
    return bool(latest) and latest[0].run_id != context.run.run_id and latest[0].timestamp > since


def artifact_asset(artifact: Artifact, catalog: Catalog, randomness: str = PUBLISHED) -> dg.AssetsDefinition:
    """The asset of one artifact; its code version is the recipe version its manifests carry in ``randomness``,
    so the UI reports a partition stale exactly when `--rebuild-stale` would rebuild it."""
    unit = artifact.partitioning.unit if artifact.partitioning else "items"

    @dg.asset(
        name=artifact.name,
        group_name=artifact.group,
        description=artifact.description,
        partitions_def=partitions_def(artifact.partitioning),
        deps=list(artifact.deps),
        retry_policy=RETRY,
        check_specs=[dg.AssetCheckSpec(c.name, asset=artifact.name, description=c.description) for c in artifact.checks],
        kinds=set(artifact.kinds),
        automation_condition=dg.AutomationCondition.eager() if artifact.eager else None,
        code_version=artifact.version_for(randomness),
    )
    def _asset(context: dg.AssetExecutionContext, vsc_root: VscRoot) -> dg.MaterializeResult:
        partitioned = artifact.partitioning is not None
        build = BuildContext(
            layout=vsc_root.layout(),
            ids=IdRange.parse(context.partition_key) if partitioned else None,
            base_seed=vsc_root.base_seed,
            workers=vsc_root.worker_count(context.instance),
            progress=progress_logger(context, unit) if partitioned else None,
            upstream_keys=() if partitioned else _upstream_keys(context, artifact, catalog),
            randomness=randomness,
            version=artifact.version_for(randomness),
        )
        extra = {"version": dg.MetadataValue.text(build.version), "workers": dg.MetadataValue.int(build.workers)}
        with fail_fast():
            claim, waited_for = _claim(context, build, artifact)
            with claim:
                if artifact.inspect is not None and _finished_meanwhile(context, build, artifact):
                    by = str(waited_for) if waited_for else "another run"
                    _say(context, f"{artifact.name} {build.key}: made whole by {by} since this run began; counted as done, not built again")
                    report = artifact.inspect(artifact, build)
                    extra["built_by"] = dg.MetadataValue.text(by)
                else:
                    report = artifact.build(artifact, build)
        return materialize_result(context, report, extra)

    return _asset
