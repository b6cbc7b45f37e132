"""vsc-assets: reproducible DISC21/VSC copy-detection training data as Dagster assets."""
