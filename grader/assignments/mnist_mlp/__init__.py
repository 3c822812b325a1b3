"""The mnist_mlp assignment: an MLP for MNIST, trained with a validation split keeping the best checkpoint.

Its sandbox gets the student pool of digits (never the held-out ones) as ``pool.npz`` in the
scratch folder, the probe namespace gets the ``device`` the notebook's locked cell defines, and
the trained checkpoint ``model.pt`` is kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

EXPORTED_NAMES = ("train_losses", "valid_losses", "test_accuracy")
PARAMETERS = {"n_epochs": 15, "seed": 0, "dataset": "mnist5k", "batch_size": 20, "valid_size": 0.2}
KEPT_FILES = ("model.pt",)
SECRET_NAMES = ("SPLIT_SEED", "mnist5k_split")


def prepare_scratch(folder: Path) -> dict[str, str]:
    """Write the student pool into ``folder``; the variable that tells the notebook's loaders where it is."""
    from grader.data import POOL_VARIABLE, write_student_pool

    return {POOL_VARIABLE: str(write_student_pool(folder / "pool.npz"))}


def probe_names() -> dict[str, Any]:
    """The notebook's ``device``: the probe runs on the CPU."""
    import torch

    return {"device": torch.device("cpu")}
