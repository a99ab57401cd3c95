"""Exemplar memory: stored training images under a budget, and memory in bytes.

Two buffers:

- :class:`ExemplarMemory`, class-balanced and updated after each task (iCaRL, PyCIL).
  A total ``budget`` is split evenly over the classes seen so far and shrunk after every
  task (PyCIL ``fixed_memory: false``), or ``per_class=True`` keeps ``budget`` per class.
  Exemplars are chosen by ``herding`` (iCaRL) or at ``random``.
- :class:`ReservoirBuffer`, stream-level (Dark Experience Replay): every sample that
  passes has the same chance to be in the buffer, whatever its class; it can also store
  the logits the network gave the sample when it was seen.

Accounting as in MEMO: a parameter costs 4 bytes (float32), a stored image its raw
uint8 size (digits 1x8x8 = 64 bytes, CIFAR 3x32x32 = 3072 bytes).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .data import ImageData


def model_bytes(num_parameters: int) -> int:
    """Memory of a model stored as float32: 4 bytes per parameter."""
    return 4 * int(num_parameters)


def check_budget(budget) -> int:
    """A budget is a whole number of exemplars >= 0; anything else is a ValueError."""
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
        raise ValueError(f"budget={budget!r}: must be a whole number of exemplars >= 0")
    return budget


def herding(features: torch.Tensor, m: int) -> torch.Tensor:
    """iCaRL herding: the indices of ``m`` samples, in the order chosen, whose running mean
    of L2-normalised features stays closest to the class mean. The first pick is the
    sample nearest the mean; a sample is never picked twice."""
    v = F.normalize(features.detach().float(), dim=1)
    mu = v.mean(0)
    m = min(m, len(v))
    chosen, total = [], torch.zeros_like(mu)
    available = torch.ones(len(v), dtype=torch.bool, device=v.device)
    for k in range(1, m + 1):
        dist = (mu - (total + v) / k).norm(dim=1)  # the mean if each candidate were added
        dist[~available] = float("inf")
        i = int(dist.argmin())
        chosen.append(i)
        available[i] = False
        total += v[i]
    return torch.tensor(chosen, dtype=torch.int64)


Features = Callable[[torch.Tensor], torch.Tensor]  # uint8 images -> (n, d) features


class ExemplarMemory:
    """Class-balanced exemplars, updated after each task (PyCIL semantics)."""

    def __init__(
        self,
        budget: int,
        *,
        per_class: bool = False,
        selection: str = "herding",
        image_bytes: int,
        generator: torch.Generator | None = None,
    ):
        if selection not in ("herding", "random"):
            raise ValueError(
                f"selection={selection!r}: an exemplar memory selects by herding or random "
                "(reservoir sampling is the stream-level ReservoirBuffer)"
            )
        self.budget, self.per_class, self.selection = check_budget(budget), per_class, selection
        self.image_bytes = image_bytes
        self.generator = generator or torch.Generator().manual_seed(0)
        self.by_class: dict[int, torch.Tensor] = {}  # class -> uint8 images, first-selected first

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_class.values())

    @property
    def nbytes(self) -> int:
        return len(self) * self.image_bytes

    @property
    def x(self) -> torch.Tensor:
        return torch.cat(list(self.by_class.values())) if self.by_class else torch.empty(0)

    @property
    def y(self) -> torch.Tensor:
        labels = [
            torch.full((len(v),), c, dtype=torch.int64, device=v.device)
            for c, v in self.by_class.items()
        ]
        return torch.cat(labels) if labels else torch.empty(0, dtype=torch.int64)

    def quota(self, num_seen_classes: int) -> int:
        """Exemplars per class: the fixed number, or the total budget split evenly."""
        if self.per_class:
            return self.budget
        return self.budget // max(num_seen_classes, 1)

    def update(self, data: ImageData, classes: range, features: Features | None = None) -> None:
        """After a task: shrink the old classes to the new quota (keeping the exemplars
        selected first) and select exemplars of the new ``classes`` from ``data``."""
        seen = max([*self.by_class, *classes]) + 1
        m = self.quota(seen)
        for c in self.by_class:
            self.by_class[c] = self.by_class[c][:m]
        for c in classes:
            images = data.x[data.y == c]
            self.by_class[c] = images[self._select(images, m, features)]

    def _select(self, images: torch.Tensor, m: int, features: Features | None) -> torch.Tensor:
        if m == 0 or len(images) == 0:
            return torch.empty(0, dtype=torch.int64, device=images.device)
        if self.selection == "random":
            order = torch.randperm(len(images), generator=self.generator)[:m]
        else:
            if features is None:
                raise ValueError("herding needs features: pass features=callable(images)")
            with torch.no_grad():
                order = herding(features(images), m)
        return order.to(images.device)

    def as_data(self, like: ImageData) -> ImageData:
        """The exemplars as an ImageData with ``like``'s normalisation."""
        return ImageData(self.x, self.y, like.mean, like.std)

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``min(n, len)`` exemplars drawn without replacement: (uint8 images, labels)."""
        idx = torch.randperm(len(self), generator=generator)[:n]
        x, y = self.x, self.y
        idx = idx.to(x.device)
        return x[idx], y[idx]


class ReservoirBuffer:
    """Reservoir sampling over the stream (Vitter's algorithm R, as in Dark Experience
    Replay): after ``seen`` samples have passed, each of them is in the buffer with
    probability ``size / seen``. Optionally stores each sample's logits (of one fixed
    width, e.g. a head over all classes)."""

    def __init__(
        self,
        size: int,
        *,
        image_bytes: int,
        generator: torch.Generator | None = None,
    ):
        self.size, self.image_bytes = check_budget(size), image_bytes
        self.generator = generator or torch.Generator().manual_seed(0)
        self.seen = 0  # samples that have passed, counting repeats over epochs
        self.count = 0  # slots filled
        self.x = self.logits = None  # allocated at the first add, on the data's device
        self.y = torch.empty(0, dtype=torch.int64)

    def __len__(self) -> int:
        return self.count

    @property
    def nbytes(self) -> int:
        return self.count * self.image_bytes

    def slot(self) -> int:
        """The reservoir rule for the next sample: a free slot while the buffer is not
        full; then r uniform in [0, seen], kept in slot r if r < size, else -1 (dropped)."""
        if self.seen < self.size:
            return self.seen
        r = int(torch.randint(0, self.seen + 1, (1,), generator=self.generator))
        return r if r < self.size else -1

    def add(self, x: torch.Tensor, y: torch.Tensor, logits: torch.Tensor | None = None) -> None:
        """Offer a batch (uint8 images, labels, optional logits) to the buffer."""
        if self.x is None:
            self.x = torch.zeros((self.size, *x.shape[1:]), dtype=torch.uint8, device=x.device)
            self.y = torch.zeros(self.size, dtype=torch.int64, device=x.device)
        for i in range(len(x)):
            j = self.slot()
            self.seen += 1
            if j < 0:
                continue
            self.count = max(self.count, j + 1)
            self.x[j], self.y[j] = x[i], y[i]
            if logits is not None:
                if self.logits is None:
                    self.logits = logits.new_zeros((self.size, logits.shape[1]))
                self.logits[j] = logits[i].detach()

    def sample(self, n: int, generator: torch.Generator):
        """``min(n, len)`` stored samples without replacement: (images, labels, logits)."""
        if self.count == 0:
            return torch.empty(0, dtype=torch.uint8), torch.empty(0, dtype=torch.int64), None
        idx = torch.randperm(self.count, generator=generator)[:n].to(self.x.device)
        return self.x[idx], self.y[idx], None if self.logits is None else self.logits[idx]
