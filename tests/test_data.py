"""Datasets, scenarios and streams; torchvision loading on files the tests write."""

import urllib.error

import numpy as np
import pytest
import torch
import torchvision
from cifar_files import write_cifar

from cl_teach.data import (
    DatasetUnavailableError,
    Stream,
    class_order,
    load_dataset,
    parse_scenario,
)


def test_digits_is_offline_uint8_and_split():
    d = load_dataset("digits")
    assert d.train.x.dtype == torch.uint8 and d.train.x.shape[2:] == (1, 8, 8)
    assert d.train.x.shape[0] == 1  # shared by every seed
    assert len(d.train) == 1438 and len(d.test) == 359
    assert sorted(d.train.y.unique().tolist()) == list(range(10))
    assert d.info.image_bytes == 64
    per_class = torch.bincount(d.train.y[0]) + torch.bincount(d.test.y[0])
    assert torch.equal(torch.bincount(d.test.y[0]), (0.2 * per_class).round().long())


def test_mnist5k_is_real_offline_mnist():
    d = load_dataset("mnist5k")
    assert d.train.x.shape == (1, 4000, 1, 28, 28) and d.test.x.shape == (1, 1000, 1, 28, 28)
    assert torch.bincount(d.test.y[0]).tolist() == [100] * 10  # 500 per class, 20% held out
    assert d.train.x.max() == 255 and d.train.x.float().mean() < 60  # dark background
    assert d.info.image_bytes == 784


def test_train_per_class_keeps_the_first_images_of_every_class():
    data = load_dataset("digits")
    stream = Stream(data, "B0Inc2", order_seed=0, train_per_class=5)
    assert len(stream.train) == 50 and torch.bincount(stream.train.y[0]).tolist() == [5] * 10
    assert len(stream.test) == len(data.test)  # the test set stays whole
    first, task = stream.class_order[0], stream.tasks[0].train
    assert torch.equal(task.x[0, task.y[0] == 0], data.train.x[0, data.train.y[0] == first][:5])


@pytest.mark.parametrize(
    "scenario,classes,sizes",
    [
        ("B0Inc2", 10, [2] * 5),
        ("B50Inc10", 100, [50] + [10] * 5),
        ("B5Inc1", 10, [5] + [1] * 5),
        ("B0Inc10", 100, [10] * 10),
    ],
)
def test_parse_scenario(scenario, classes, sizes):
    assert parse_scenario(scenario, classes) == sizes


@pytest.mark.parametrize(
    "scenario,why",
    [
        ("B0Inc3", "does not divide"),
        ("B10Inc2", "does not divide"),
        ("Inc2", "bad scenario"),
        ("B0Inc0", "does not divide"),
    ],
)
def test_bad_scenarios_are_clear_errors(scenario, why):
    with pytest.raises(ValueError, match=why):
        parse_scenario(scenario, 10)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'.*digits"):
        load_dataset("imagenet")


def test_class_order_is_a_seeded_permutation():
    assert sorted(class_order(10, 0)) == list(range(10))
    assert class_order(10, 0) == class_order(10, 0)
    assert class_order(10, 0) != class_order(10, 1)


def test_stream_tasks_partition_the_classes():
    stream = Stream(load_dataset("digits"), "B0Inc2", order_seed=3)
    assert len(stream) == 5
    assert sum(len(t.train) for t in stream.tasks) == len(stream.train)
    for t in stream.tasks:
        assert set(t.train.y.unique().tolist()) == set(t.classes)
        assert set(t.test.y.unique().tolist()) == set(t.classes)
    # relabelled class c is original class class_order[c]
    raw = load_dataset("digits")
    first, task = stream.class_order[0], stream.tasks[0].train
    assert torch.equal(task.x[:, task.y[0] == 0], raw.train.x[:, raw.train.y[0] == first])
    assert len(stream.joint(2)) == sum(len(t.train) for t in stream.tasks[:3])


# --- torchvision datasets, on small files in torchvision's on-disk format ----------------


def _idx(path, array, magic):
    header = np.array([magic, *array.shape], dtype=">i4").tobytes()
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def _write_mnist(root, folder="MNIST", n=(20, 10)):
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, count in zip(("train", "t10k"), n, strict=True):
        _idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (count, 28, 28)), 2051)
        _idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(count) % 10, 2049)


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_like_loads_from_torchvision_files(tmp_path, name, folder):
    _write_mnist(tmp_path, folder)
    d = load_dataset(name, root=tmp_path, download=False)
    assert d.train.x.shape == (1, 20, 1, 28, 28) and d.test.x.shape == (1, 10, 1, 28, 28)
    assert d.train.y[0].tolist() == [i % 10 for i in range(20)]


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_cifar_loads_from_torchvision_files(tmp_path, name):
    written = write_cifar(tmp_path, name, train_per_class=3)
    d = load_dataset(name, root=tmp_path, download=False)
    classes = 100 if name == "cifar100" else 10
    assert d.train.x.shape == (1, 3 * classes, 3, 32, 32) and d.test.x.shape == (
        1,
        classes,
        3,
        32,
        32,
    )
    # channels-first copy of the stored (N, 3072) rows
    first = written["train"]["data"][0].reshape(3, 32, 32)
    assert torch.equal(d.train.x[0, 0], torch.from_numpy(first))
    assert torch.bincount(d.train.y[0]).tolist() == [3] * classes


def test_missing_dataset_offline_names_dataset_folder_and_fix(tmp_path):
    with pytest.raises(DatasetUnavailableError) as err:
        load_dataset("cifar100", root=tmp_path, download=False)
    msg = str(err.value)
    assert "cifar100" in msg and str(tmp_path / "cifar-100-python") in msg
    assert "python -m cl_teach download cifar100" in msg


def test_failed_download_is_a_clear_error(tmp_path, monkeypatch):
    def no_network(self):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", no_network)
    with pytest.raises(DatasetUnavailableError, match="download failed: .*no route to host"):
        load_dataset("mnist", root=tmp_path, download=True)
