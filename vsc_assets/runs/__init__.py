"""Running the platform from the command line: the instance, partition keys, the plan, the runs."""
