"""PyTorch data loaders of handwritten digits for a notebook that trains on them, built from :mod:`grader.data`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from grader.data import DATASETS, DatasetError, Digits, full_mnist, student_digits, to_tensors


@dataclass(frozen=True)
class Loaders:
    """The three loaders a notebook trains, validates and tests with."""

    train: DataLoader
    valid: DataLoader
    test: DataLoader


def student_data(dataset: str, data_root: str | Path = "data") -> tuple[Digits, Digits]:
    """(train+validation, test) digits of ``dataset`` as a student notebook may see them."""
    if dataset == "mnist5k":
        return student_digits()
    if dataset == "mnist":
        return full_mnist(data_root)
    raise DatasetError(f"unknown dataset {dataset!r}; choose one of {DATASETS}", dataset=dataset)


def split_validation(n_items: int, valid_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle ``range(n_items)`` with ``seed`` and cut off a ``valid_size`` fraction."""
    if not 0.0 < valid_size < 1.0:
        raise DatasetError(f"valid_size must be a fraction between 0 and 1, got {valid_size!r}")
    order = np.random.default_rng(seed).permutation(n_items)
    n_valid = int(np.floor(valid_size * n_items))
    return order[n_valid:], order[:n_valid]


def make_loaders(
    dataset: str = "mnist5k",
    batch_size: int = 20,
    valid_size: float = 0.2,
    seed: int = 0,
    data_root: str | Path = "data",
) -> Loaders:
    """Training, validation and test loaders; images are floats in [0, 1], ``(N, 1, 28, 28)``."""
    if int(batch_size) < 1:
        raise DatasetError(f"batch_size must be at least 1, got {batch_size!r}")
    trainable, test = student_data(dataset, data_root)
    train_index, valid_index = split_validation(len(trainable), valid_size, seed)
    generator = torch.Generator().manual_seed(int(seed))

    def loader(digits: Digits, shuffle: bool) -> DataLoader:
        dataset_ = TensorDataset(*to_tensors(digits))
        return DataLoader(dataset_, batch_size=int(batch_size), shuffle=shuffle, generator=generator)

    return Loaders(
        train=loader(trainable.subset(train_index), shuffle=True),
        valid=loader(trainable.subset(valid_index), shuffle=False),
        test=loader(test, shuffle=False),
    )
