"""torch's first operations, paid once in the forkserver, leave no trace a forked kernel could notice."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import torch

from grader.kernels.torch_warmup import warm_up_torch

# warm up, fork, and train a little in the child on the inherited thread count
FORKED = textwrap.dedent('''
    import os, sys, torch
    import grader.kernels.torch_warmup
    pid = os.fork()
    if pid == 0:
        layer = torch.nn.Conv2d(1, 8, 3)
        optimizer = torch.optim.Adam(layer.parameters())
        for _ in range(3):
            layer(torch.rand(16, 1, 64, 64)).sum().backward()
            optimizer.step()
        os._exit(0 if torch.get_num_threads() == 2 else 3)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))
''')


def test_the_warm_up_leaves_threads_and_random_numbers_as_they_were() -> None:
    threads = torch.get_num_threads()
    torch.manual_seed(7)
    expected = torch.rand(4)
    torch.manual_seed(7)
    warm_up_torch()
    assert torch.equal(torch.rand(4), expected), "a kernel's random numbers don't depend on the warm-up"
    assert torch.get_num_threads() == threads


def test_a_child_forked_after_the_warm_up_computes_on_its_threads() -> None:
    environment = {**os.environ, "OMP_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", FORKED], env=environment, timeout=120, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr[-2000:]
