"""torch's first operations, run once in the warm forkserver (see :mod:`grader.probing.probe_launcher`).

The first convolution, pooling, linear layer, loss and optimizer step of a process pay
one-off set-up costs (kernel dispatch tables, oneDNN primitives, allocator caches), in every
probe process and every kernel when each paid them itself (bench/results/fixed_costs.md). Paid once in the server
before it forks, they are inherited. Importing this module runs the warm-up: the forkserver's
preload list only imports modules.

The warm-up runs on one thread, so the server starts no OpenMP thread pool before it forks,
and it leaves torch's random number generator as it found it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 - torch's own spelling


def warm_up_torch() -> None:
    """Run each kind of operation the assignments use once, on zeros, with no trace left in torch's state."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            images = torch.zeros(2, 3, 16, 16)
            kernels = torch.zeros(4, 3, 3, 3, requires_grad=True)
            features = F.max_pool2d(F.relu(F.conv2d(images, kernels, padding=1)), 2)
            weights = torch.zeros(10, features[0].numel(), requires_grad=True)
            scores = F.dropout(F.linear(features.flatten(1), weights), 0.2)
            loss = F.cross_entropy(scores, torch.zeros(2, dtype=torch.long)) + F.nll_loss(
                F.log_softmax(scores, dim=1), torch.zeros(2, dtype=torch.long))
            optimizer = torch.optim.Adam([kernels, weights])
            loss.backward()
            optimizer.step()
            torch.optim.SGD([weights], lr=0.1).step()
    finally:
        torch.set_num_threads(threads)


warm_up_torch()
