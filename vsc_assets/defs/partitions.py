"""Partitions that follow the data: ranges of ids, registered as data arrives."""

import dagster as dg

# DISC21: ranges of source pids (every 10th image is a source).
disc21_partitions_def = dg.DynamicPartitionsDefinition(name="disc21_sources")
# VSC: ranges of the number in the video id (Q200123 -> 200123).
query_videos_partitions_def = dg.DynamicPartitionsDefinition(name="query_videos")
reference_videos_partitions_def = dg.DynamicPartitionsDefinition(name="reference_videos")
