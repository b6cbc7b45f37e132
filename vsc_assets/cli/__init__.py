"""The `vsc-assets` command."""
