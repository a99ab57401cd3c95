"""The two task sequences of the plasticity experiments (Dohare et al., Nature 2024).

- ``permuted``: every task is the whole dataset with its own fixed permutation of the pixel
  positions (the same for every channel); the labels stay (``shuffle_labels`` also permutes
  the classes per task; ``label_noise`` replaces that fraction of each task's training
  labels by random classes, a harder task at the same data and steps; test labels stay
  clean). Every task is new and equally hard. Each seed
  draws its own permutations, so a task's images are stacked (S, N, C, H, W).
  How it differs from the paper's permuted MNIST: a task here is the training split of
  ``digits`` (1,438 images, 8x8) or ``mnist5k`` (4,000, 28x28) seen for several epochs in
  mini-batches, there all 60,000 MNIST images seen once, one at a time (batch size 1);
  the network here is 3 x 32 units, there 3 x 2000; 30 tasks here, 800 there.
- ``incremental``: the paper's class-incremental setting where all data of the seen
  classes stays available (no forgetting problem): start with ``classes_per_task``
  classes, add as many per task, use only the seen classes' logits (CIFAR-100: 5 + 5, 20
  tasks). The class order comes from ``class_order_seed``, so every seed sees the same
  stream.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from ..data import Dataset, ImageData, Stream, dataset_info, first_per_class, load_dataset
from ..train import SeedRandom
from .config import PlasticityConfig


@dataclass(frozen=True)
class PlasticityTask:
    train: ImageData  # (1 or S, N, ...): shared by the seeds, or one set per seed
    test: ImageData
    classes: int  # logits in use: the seen classes


def task_sequence(
    cfg: PlasticityConfig, random: SeedRandom, device: torch.device, start: int = 0
) -> Iterator[PlasticityTask]:
    """The tasks of ``cfg.setting`` from task ``start`` on, made one at a time (a permuted
    task holds S copies of the dataset). A resumed run passes ``start`` with the generators
    of its checkpoint, which continue where the first ``start`` tasks left them."""
    data = load_dataset(cfg.dataset)
    if cfg.setting == "incremental":
        return incremental_tasks(cfg, data, device, start)
    return permuted_tasks(cfg, data, random("tasks"), device, start)


def number_of_tasks(cfg: PlasticityConfig) -> int:
    """``cfg.tasks``, else 30 permuted tasks or the whole class-incremental stream."""
    if cfg.tasks is not None:
        return cfg.tasks
    if cfg.setting == "permuted":
        return 30
    return dataset_info(cfg.dataset).num_classes // cfg.classes_per_task


def incremental_tasks(
    cfg: PlasticityConfig, data: Dataset, device, start: int = 0
) -> Iterator[PlasticityTask]:
    n, cpt = data.info.num_classes, cfg.classes_per_task
    scenario = f"B{cpt}Inc{cpt}" if cpt < n else f"B0Inc{cpt}"
    stream = Stream(data, scenario, cfg.class_order_seed, device, cfg.train_per_class)
    if cfg.tasks is not None and cfg.tasks > len(stream):
        raise ValueError(f"tasks={cfg.tasks}: the stream has only {len(stream)} tasks")
    for t in range(start, cfg.tasks or len(stream)):
        yield PlasticityTask(stream.joint(t), stream.joint(t, "test"), stream.seen_classes(t))


def permuted_tasks(
    cfg: PlasticityConfig, data: Dataset, gens, device, start: int = 0
) -> Iterator[PlasticityTask]:
    n_classes = data.info.num_classes
    pixels = math.prod(data.info.shape[1:])
    train = (
        data.train
        if cfg.train_per_class is None
        else first_per_class(data.train, cfg.train_per_class)
    )
    train, test = train.to(device), data.test.to(device)
    for _ in range(start, number_of_tasks(cfg)):
        perms, labels, noise = [], [], []
        for g in gens:  # each seed draws from its own generator
            perms.append(torch.randperm(pixels, generator=g))
            shuffle = cfg.shuffle_labels
            labels.append(
                torch.randperm(n_classes, generator=g) if shuffle else torch.arange(n_classes)
            )
            if cfg.label_noise > 0:
                noise.append(noisy_labels(len(train), n_classes, cfg.label_noise, g))
        perms, labels = torch.stack(perms).to(device), torch.stack(labels).to(device)
        task_train = permute(train, perms, labels)
        if noise:
            task_train = with_noise(task_train, torch.stack(noise).to(device))
        yield PlasticityTask(task_train, permute(test, perms, labels), n_classes)


def noisy_labels(n: int, n_classes: int, fraction: float, g: torch.Generator) -> torch.Tensor:
    """For ``n`` training images, a random class where a label is to be replaced (a
    ``fraction`` of them, drawn at random), -1 where it stays."""
    replace = torch.rand(n, generator=g) < fraction
    return torch.where(replace, torch.randint(n_classes, (n,), generator=g), -1)


def with_noise(data: ImageData, noise: torch.Tensor) -> ImageData:
    """``data`` (one copy per seed) with the labels of :func:`noisy_labels` replaced."""
    return ImageData(data.x, torch.where(noise >= 0, noise, data.y), data.mean, data.std)


def permute(data: ImageData, perms: torch.Tensor, labels: torch.Tensor) -> ImageData:
    """Shared images (1, N, C, H, W) -> one copy per seed, seed s with its pixel positions
    permuted by ``perms[s]`` and its labels mapped through ``labels[s]``."""
    x = data.x[0].flatten(2)  # (N, C, H*W)
    shape = (len(perms), *data.x.shape[1:])
    x = torch.stack([x[:, :, p] for p in perms]).view(shape)
    y = torch.stack([relabel[data.y[0]] for relabel in labels])
    return ImageData(x, y, data.mean, data.std)
