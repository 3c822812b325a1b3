"""A Dask worker preload for grading machines: ``dask worker ADDRESS --preload grader.dask_worker``.

A grading task is seconds to minutes of CPU-bound work on one thread. Dask's defaults sample
that thread's stack often (its statistical profiler) and time the worker's event loop often:
a worker running one long task spent a tenth of a core on them (bench/results/fixed_costs.md),
taken from the students' cells and the grader's own work. The preload stops the profiler and
slows the two monitors; everything else about the worker stays as Dask made it.
"""

from __future__ import annotations

from typing import Any

STOPPED = ("profile", "profile-cycle")  # the statistical profiler: a grading worker's profile is not read
SLOWED_MS = {"tick": 1000, "monitor": 10000}  # the event-loop timer and the system monitor (psutil)


def quiet_worker(server: Any) -> list[str]:
    """Stop the profiler and slow the monitors of a Dask worker (or nanny); the names of what changed."""
    callbacks = server.periodic_callbacks
    changed = []
    for name in STOPPED:
        callback = callbacks.pop(name, None)
        if callback is not None:
            callback.stop()
            changed.append(name)
    for name, milliseconds in SLOWED_MS.items():
        if name in callbacks:
            callbacks[name].callback_time = milliseconds
            changed.append(name)
    if "tick" in changed:  # what the tick monitor compares the loop's delays against
        server._tick_interval = server._tick_interval_observed = SLOWED_MS["tick"] / 1000
    return changed


def dask_setup(worker: Any) -> None:
    """Dask's preload hook: runs in each worker process before its periodic callbacks start."""
    quiet_worker(worker)
