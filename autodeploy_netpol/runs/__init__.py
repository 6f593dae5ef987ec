"""Runs: one use case per command — builds its inputs once, runs the checks, returns a typed
result and the exit code. Side effects (cluster reads, files) come in through ``sources``."""
