"""Partitions that follow the data: ranges of source ids, registered as data arrives."""


import dagster as dg

disc21_partitions_def = dg.DynamicPartitionsDefinition(name="disc21_sources")
