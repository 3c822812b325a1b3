"""Grading many submissions: a pool of processes on one machine or a Dask cluster."""
