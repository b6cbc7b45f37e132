"""Pure augmentation library (no Dagster): families, recipes, seeding, records."""
