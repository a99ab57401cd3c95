"""Datasets and class-incremental streams.

Images are kept as raw ``uint8`` tensors (N, C, H, W), the form in which exemplar memory
is counted; :meth:`ImageData.to_float` normalises them for the network.

- ``digits``: scikit-learn's bundled 8x8 handwritten digits, the offline default.
- ``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``: through ``torchvision.datasets``,
  downloaded on first use into the data folder (``$CL_TEACH_DATA``, else ``data/``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
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
    augment: bool = False  # random crop + flip during training (as PyCIL for CIFAR)

    @property
    def image_bytes(self) -> int:
        c, h, w = self.shape
        return c * h * w


DATASETS = {
    "digits": DatasetInfo("digits", 10, (1, 8, 8), "cnn"),
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
    """A labelled set of raw images: ``x`` uint8 (N, C, H, W), ``y`` int64 (N,)."""

    x: torch.Tensor
    y: torch.Tensor
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, mask: torch.Tensor) -> ImageData:
        return ImageData(self.x[mask], self.y[mask], self.mean, self.std)

    def _mean_std(self, device) -> tuple[torch.Tensor, torch.Tensor]:
        mean = torch.tensor(self.mean, device=device).view(1, -1, 1, 1)
        return mean, torch.tensor(self.std, device=device).view(1, -1, 1, 1)

    def to_float(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 images -> normalised float32, on ``x``'s device."""
        mean, std = self._mean_std(x.device)
        return (x.float() / 255.0 - mean) / std

    def to_uint8(self, x: torch.Tensor) -> torch.Tensor:
        """The inverse of :meth:`to_float`: normalised float images back to raw uint8."""
        mean, std = self._mean_std(x.device)
        return ((x * std + mean) * 255.0).round().clamp(0, 255).to(torch.uint8)


@dataclass(frozen=True)
class Dataset:
    info: DatasetInfo
    train: ImageData
    test: ImageData


def load_dataset(name: str, root: str | Path | None = None, download: bool = True) -> Dataset:
    """Load a dataset by name; see the module docstring for the list."""
    info = dataset_info(name)
    if info.torchvision_name is None:
        return _digits()
    return _torchvision(info, Path(root) if root else data_root(), download)


@lru_cache(maxsize=1)
def _digits() -> Dataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    # pixel values are 0..16; store them as the uint8 image a camera would give
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    x_tr, x_te, y_tr, y_te = train_test_split(
        images, bunch.target, test_size=0.2, random_state=0, stratify=bunch.target
    )
    return _make(DATASETS["digits"], x_tr, y_tr, x_te, y_te)


def _make(info, x_tr, y_tr, x_te, y_te) -> Dataset:
    x_tr = torch.as_tensor(np.ascontiguousarray(x_tr), dtype=torch.uint8)
    x_te = torch.as_tensor(np.ascontiguousarray(x_te), dtype=torch.uint8)
    pixels = x_tr.float().div(255.0).transpose(0, 1).reshape(x_tr.shape[1], -1)
    mean = tuple(pixels.mean(1).tolist())
    std = tuple(pixels.std(1).clamp_min(1e-6).tolist())
    as_labels = lambda y: torch.as_tensor(np.asarray(y), dtype=torch.int64)  # noqa: E731
    return Dataset(
        info,
        ImageData(x_tr, as_labels(y_tr), mean, std),
        ImageData(x_te, as_labels(y_te), mean, std),
    )


def _torchvision(info: DatasetInfo, root: Path, download: bool) -> Dataset:
    import torchvision.datasets as tvd

    cls = getattr(tvd, info.torchvision_name)
    try:
        train, test = cls(root, train=True, download=False), cls(root, train=False, download=False)
    except RuntimeError:
        if not download:
            raise DatasetUnavailableError(
                _missing(info, root, "downloads are switched off")
            ) from None
        try:
            root.mkdir(parents=True, exist_ok=True)
            train, test = (
                cls(root, train=True, download=True),
                cls(root, train=False, download=True),
            )
        except Exception as err:  # no network, a proxy, a half-written file ...
            raise DatasetUnavailableError(_missing(info, root, f"download failed: {err}")) from err
    x_tr, x_te = (np.asarray(d.data) for d in (train, test))
    if x_tr.ndim == 3:  # MNIST-like: (N, H, W)
        x_tr, x_te = x_tr[:, None], x_te[:, None]
    else:  # CIFAR: (N, H, W, C)
        x_tr, x_te = x_tr.transpose(0, 3, 1, 2), x_te.transpose(0, 3, 1, 2)
    return _make(info, x_tr, train.targets, x_te, test.targets)


def _missing(info: DatasetInfo, root: Path, reason: str) -> str:
    return (
        f"dataset {info.name!r} is not in {root / info.folder} and {reason}. "
        f"On a machine with internet run `python -m cl_teach download {info.name}` "
        f"(or torchvision.datasets.{info.torchvision_name}(root, download=True)) and copy the "
        f"folder {info.folder}/ into {root}, or point CL_TEACH_DATA at a folder that has it. "
        "The offline dataset 'digits' needs no download."
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


def class_order(num_classes: int, seed: int) -> list[int]:
    """A fixed permutation of the classes drawn from a seed (PyCIL uses seed 1993)."""
    return np.random.RandomState(seed).permutation(num_classes).tolist()


@dataclass(frozen=True)
class Task:
    """One step of the stream. Labels are positions in the class order, so task t owns
    the contiguous label range ``classes``."""

    index: int
    classes: range
    train: ImageData
    test: ImageData


class Stream:
    """A class-incremental stream: a dataset, a scenario and a class order."""

    def __init__(self, dataset: Dataset, scenario: str, order_seed: int = 0, device="cpu"):
        self.info = dataset.info
        self.scenario = scenario
        self.classes_per_task = parse_scenario(scenario, self.info.num_classes)
        self.class_order = class_order(self.info.num_classes, order_seed)
        relabel = torch.empty(self.info.num_classes, dtype=torch.int64)
        relabel[torch.tensor(self.class_order)] = torch.arange(self.info.num_classes)
        self.train, self.test = (
            ImageData(d.x.to(device), relabel[d.y].to(device), d.mean, d.std)
            for d in (dataset.train, dataset.test)
        )
        bounds = np.cumsum([0] + self.classes_per_task)
        self.tasks = [
            Task(
                t,
                range(lo, hi),
                self.train.subset((self.train.y >= lo) & (self.train.y < hi)),
                self.test.subset((self.test.y >= lo) & (self.test.y < hi)),
            )
            for t, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
        ]

    def __len__(self) -> int:
        return len(self.tasks)

    def seen_classes(self, t: int) -> int:
        return self.tasks[t].classes.stop

    def joint(self, t: int, split: str = "train") -> ImageData:
        """All data of the classes seen up to and including task t."""
        data = getattr(self, split)
        return data.subset(data.y < self.seen_classes(t))
