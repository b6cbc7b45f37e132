"""The thin Dagster layer: partitions, resources, assets, checks."""
