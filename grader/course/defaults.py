"""Every default limit and budget, in one place: the settings of ``nbgrader_config.py`` start from these.

Grading (``c.GraderSettings``): time limits and the largest notebook accepted. The sandbox
(``c.Sandbox``): what one student process may use, and how much output a notebook keeps. The
read-back limits of what a sandbox writes are :mod:`grader.pipeline.readback`'s, the message budgets
:mod:`grader.pipeline.shown`'s.
"""

CELL_TIMEOUT_SECONDS = 300.0  # one notebook cell
NOTEBOOK_TIMEOUT_SECONDS = 900.0  # a whole notebook
INTERRUPT_GRACE_SECONDS = 10.0  # a cell interrupted at its limit has this long to stop before its kernel is killed
PROBE_TIMEOUT_SECONDS = 300.0  # the probe process of one submission
SCHEDULER_CONNECT_SECONDS = 10.0  # grader autograde --scheduler: how long to try to reach the Dask scheduler
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024  # the largest submitted notebook accepted

CPU_SECONDS = 1800  # CPU seconds one student process may use
MEMORY_MB = 3072  # data memory one student process may allocate
FILE_MB = 256  # the largest file student code may write
SCRATCH_MB = 1024  # what the scratch folder may hold in all
PROCESSES = 128  # processes and threads student code may run at once
OPEN_FILES = 256  # files one student process may hold open
NICE = 10  # scheduling niceness of student code

OUTPUT_KB = 256  # one output kept in the executed notebook
CELL_OUTPUT_KB = 1024  # output one cell may keep (twice this interrupts it)
NOTEBOOK_OUTPUT_KB = 4096  # output one notebook may keep (twice this interrupts it)
