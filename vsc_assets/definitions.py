"""The one Definitions object: every declared artifact as an asset, its checks, jobs, sensors and resource."""

import dagster as dg

from vsc_assets.augment.families import PUBLISHED
from vsc_assets.catalog.artifacts import CATALOG, Catalog
from vsc_assets.defs.assets import artifact_asset, input_spec
from vsc_assets.defs.cluster import cluster_jobs
from vsc_assets.defs.resources import VscRoot
from vsc_assets.defs.sensors import data_change_sensor_for


def definitions_for(catalog: Catalog, randomness: str = PUBLISHED) -> dg.Definitions:
    """Everything Dagster needs, derived from the catalog's declarations. ``randomness`` is part of what
    the augmented sets' code versions say (Artifact.version_for): one code location builds one mode."""
    assets = [artifact_asset(a, catalog, randomness) for a in catalog.artifacts]
    # One job per partitions definition (what a backfill of "everything for these keys" runs), and one
    # per unpartitioned artifact: every run, whoever launches it, is a run of a job named for its work.
    jobs = [
        dg.define_asset_job(name, selection=dg.AssetSelection.assets(*(a.name for a in built)), description=_job_description(built))
        for name, built in catalog.jobs.items()
    ]
    eager = [a.name for a in catalog.artifacts if a.eager]
    sensors = [data_change_sensor_for(catalog, [j for j in jobs if j.name in {p.job for p in catalog.partitionings}])]
    if eager:
        sensors.append(
            dg.AutomationConditionSensorDefinition(
                "pair_table_automation",
                target=dg.AssetSelection.assets(*eager),
                default_status=dg.DefaultSensorStatus.RUNNING,
            )
        )
    return dg.Definitions(
        assets=[*(input_spec(s) for s in catalog.inputs), *assets],
        jobs=[*jobs, *cluster_jobs(jobs)],
        sensors=sensors,
        resources={"vsc_root": VscRoot()},
        # Steps of a run go one after another; the parallelism is the worker processes
        # inside each step and the runs in flight, which together match the cores.
        executor=dg.in_process_executor,
    )


def _job_description(built) -> str:
    what = ", ".join(a.name for a in built)
    first = built[0].partitioning
    return f"Builds {what}, one partition key ({first.name}) a run." if first else f"Builds {what}."


defs = definitions_for(CATALOG)


def definitions_of(catalog: Catalog, randomness: str = PUBLISHED) -> dg.Definitions:
    """The Definitions that serve this catalog in this mode: the code location's own ``defs`` when
    they are the ones it loads, else built for them."""
    return defs if catalog is CATALOG and randomness == PUBLISHED else definitions_for(catalog, randomness)
