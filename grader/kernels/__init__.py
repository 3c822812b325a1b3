"""Jupyter kernels for student notebooks, started in the sandbox or forked from a warm server."""
