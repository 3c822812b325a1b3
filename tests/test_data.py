"""The data module: a deterministic, disjoint, class-balanced split, and the full-MNIST path."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from grader import data
from grader.loaders import make_loaders, split_validation


@pytest.fixture(scope="module")
def digits() -> data.Digits:
    return data.embedded_digits()


def test_embedded_digits_are_real_mnist(digits: data.Digits) -> None:
    assert digits.images.shape == (5000, 28, 28) and digits.images.dtype == np.uint8
    assert np.bincount(digits.labels).tolist() == [500] * 10
    assert digits.images.max() == 255 and digits.images.min() == 0


def test_split_is_deterministic(digits: data.Digits) -> None:
    first, second = data.mnist5k_split(digits.labels), data.mnist5k_split(digits.labels)
    assert np.array_equal(first.pool, second.pool) and np.array_equal(first.heldout, second.heldout)


def test_pools_are_disjoint_complete_and_balanced(digits: data.Digits) -> None:
    split = data.mnist5k_split(digits.labels)
    assert len(split.pool) == 4000 and len(split.heldout) == 1000
    assert not set(split.pool.tolist()) & set(split.heldout.tolist())
    assert sorted(split.pool.tolist() + split.heldout.tolist()) == list(range(5000))
    assert np.bincount(digits.labels[split.heldout]).tolist() == [100] * 10
    assert np.bincount(digits.labels[split.pool]).tolist() == [400] * 10


def test_student_digits_never_include_heldout_images() -> None:
    trainable, test = data.student_digits()
    heldout = data.heldout_digits()
    assert (len(trainable), len(test), len(heldout)) == (3500, 500, 1000)
    assert np.bincount(test.labels).tolist() == [50] * 10
    seen = {image.tobytes() for image in np.concatenate([trainable.images, test.images])}
    leaked = sum(image.tobytes() in seen for image in heldout.images)
    assert leaked == 0


def test_validation_split_follows_valid_size_and_seed() -> None:
    train, valid = split_validation(3500, 0.2, seed=3)
    assert (len(train), len(valid)) == (2800, 700)
    assert not set(train.tolist()) & set(valid.tolist())
    again, _ = split_validation(3500, 0.2, seed=3)
    other, _ = split_validation(3500, 0.2, seed=4)
    assert np.array_equal(train, again) and not np.array_equal(train, other)
    with pytest.raises(data.DatasetError, match="valid_size"):
        split_validation(3500, 1.5, seed=0)


def test_mnist5k_loaders_yield_contract_tensors() -> None:
    import torch

    loaders = make_loaders("mnist5k", batch_size=32, valid_size=0.2, seed=0)
    assert [len(x.dataset) for x in (loaders.train, loaders.valid, loaders.test)] == [2800, 700, 500]
    images, labels = next(iter(loaders.train))
    assert images.shape == (32, 1, 28, 28) and images.dtype == torch.float32
    assert labels.shape == (32,) and labels.dtype == torch.int64
    assert 0.0 <= images.min() and images.max() <= 1.0


def test_unknown_dataset_is_a_clear_error() -> None:
    with pytest.raises(data.DatasetError, match="unknown dataset 'cifar'"):
        make_loaders("cifar")


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write ``array`` (uint8) in MNIST's idx format: magic, dimensions, bytes."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def make_fake_mnist(root: Path, n_train: int, n_test: int) -> tuple[np.ndarray, np.ndarray]:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n_train + n_test, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n_train + n_test).astype(np.uint8)
    write_idx(raw / "train-images-idx3-ubyte", images[:n_train])
    write_idx(raw / "train-labels-idx1-ubyte", labels[:n_train])
    write_idx(raw / "t10k-images-idx3-ubyte", images[n_train:])
    write_idx(raw / "t10k-labels-idx1-ubyte", labels[n_train:])
    return images, labels


def test_full_mnist_reads_idx_files_without_network(tmp_path: Path) -> None:
    images, labels = make_fake_mnist(tmp_path, n_train=60, n_test=12)
    train, test = data.full_mnist(tmp_path, download=False)
    assert np.array_equal(train.images, images[:60]) and np.array_equal(test.labels, labels[60:])
    loaders = make_loaders("mnist", batch_size=10, valid_size=0.25, seed=1, data_root=tmp_path)
    assert [len(x.dataset) for x in (loaders.train, loaders.valid, loaders.test)] == [45, 15, 12]
    batch, _ = next(iter(loaders.test))
    assert np.allclose(batch[0, 0].numpy(), images[60] / 255.0)


def test_full_mnist_missing_offline_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(data.DatasetError, match="mnist5k") as caught:
        data.full_mnist(tmp_path / "empty", download=False)
    assert caught.value.dataset == "mnist"
