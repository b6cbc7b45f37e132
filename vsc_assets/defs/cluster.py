"""The same jobs with their steps on Celery workers; present when the cluster extra is installed.

Single-machine jobs keep the in-process executor. These run each step (one
asset of one partition) as a Celery task on whichever worker takes it; the
broker, backend and Celery settings are `vsc_assets/cluster/celery.yaml`,
resolved from the environment when a run starts.
"""

from importlib.resources import files

import dagster as dg
import yaml

try:
    from dagster_celery import celery_executor
except ImportError:  # pip install -e '.[cluster]'
    celery_executor = None

CLUSTER_SUFFIX = "_cluster"


def celery_run_config() -> dict:
    """The executor's part of the run config, shared with the workers' `-y` file."""
    return yaml.safe_load(files("vsc_assets.cluster").joinpath("celery.yaml").read_text())


def cluster_jobs(jobs: list) -> list:
    """A twin of each job, named <job>_cluster, whose steps go to Celery workers."""
    if celery_executor is None:
        return []
    config = celery_run_config()
    return [
        dg.define_asset_job(
            job.name + CLUSTER_SUFFIX,
            selection=job.selection,
            executor_def=celery_executor,
            config=config,
            description=f"{job.name}, each step on a Celery worker (see README: When one machine is not enough).",
        )
        for job in jobs
    ]
