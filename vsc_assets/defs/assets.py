"""Each declared artifact as a Dagster asset: the asset boundary, where a partition key is parsed once."""

import dagster as dg

from vsc_assets.catalog.artifacts import Artifact, BuildContext, Catalog, InputSpec
from vsc_assets.defs.partitions import partitions_def
from vsc_assets.defs.resources import VscRoot
from vsc_assets.defs.results import input_errors_fail_fast, materialize_result, progress_logger
from vsc_assets.keys import IdRange

RETRY = dg.RetryPolicy(max_retries=2, delay=2)


def input_spec(spec: InputSpec) -> dg.AssetSpec:
    return dg.AssetSpec(spec.name, group_name=spec.group, description=spec.description, kinds=set(spec.kinds))


def _upstream_keys(context: dg.AssetExecutionContext, artifact: Artifact, catalog: Catalog) -> tuple[str, ...]:
    """For an unpartitioned artifact: every registered key of its partitioned upstream artifacts."""
    keys: set[str] = set()
    for dep in artifact.deps:
        if dep in catalog.names and catalog[dep].partitioning is not None:
            keys.update(context.instance.get_dynamic_partitions(catalog[dep].partitioning.name))
    return tuple(sorted(keys))


def artifact_asset(artifact: Artifact, catalog: Catalog) -> dg.AssetsDefinition:
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
        )
        with input_errors_fail_fast():
            report = artifact.build(artifact, build)
        return materialize_result(context, report)

    return _asset
