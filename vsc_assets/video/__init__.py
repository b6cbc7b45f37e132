"""Pure video library (no Dagster): probing, the on-screen rule, decoding frames at timestamps.

Only this package runs ffmpeg (the binary that imageio-ffmpeg ships), always
with an argument list, never through a shell.
"""
