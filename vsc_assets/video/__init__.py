"""Pure video library (no Dagster): probing, the on-screen rule, decoding frames at timestamps.

Decoding goes through PyAV (the library behind imageio's pyav plugin), in
process: no file name ever reaches a shell.
"""
