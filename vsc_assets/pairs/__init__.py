"""Pure pair library (no Dagster): ground truth, the pair rule, the shuffle."""
