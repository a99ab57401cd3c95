"""Exemplar memory: stored training images under a budget, and memory in bytes.

Two buffers, each holding one memory per seed (images (S, n, C, H, W), every seed
choosing its own samples with its own generator):

- :class:`ExemplarMemory`, class-balanced and updated after each task (iCaRL, PyCIL).
  A total ``budget`` is split evenly over the classes seen so far and shrunk after every
  task (PyCIL ``fixed_memory: false``), or ``per_class=True`` keeps ``budget`` per class.
  Exemplars are chosen by ``herding`` (iCaRL) or at ``random``.
- :class:`ReservoirBuffer`, stream-level (Dark Experience Replay): every sample that
  passes has the same chance to be in the buffer, whatever its class; it can also store
  the logits the network gave the sample when it was seen.

Accounting as in MEMO: a parameter costs 4 bytes (float32), a stored image its raw
uint8 size (digits 1x8x8 = 64 bytes, CIFAR 3x32x32 = 3072 bytes), and a stored logit
4 bytes (float32), so Dark ER's sample costs its image plus 4 bytes per class.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .data import ImageData

FLOAT_BYTES = 4


def model_bytes(num_parameters: int) -> int:
    """Memory of a model stored as float32: 4 bytes per parameter."""
    return FLOAT_BYTES * int(num_parameters)


def check_budget(budget) -> int:
    """A budget is a whole number of exemplars >= 0; anything else is a ValueError."""
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
        raise ValueError(f"budget={budget!r}: must be a whole number of exemplars >= 0")
    return budget


def herding(features: torch.Tensor, m: int) -> torch.Tensor:
    """iCaRL herding: the indices of ``m`` samples, in the order chosen, whose running mean
    of L2-normalised features stays closest to the class mean. The first pick is the
    sample nearest the mean; a sample is never picked twice. ``features`` (n, d), or
    (S, n, d) for each seed's own features at once: (m,) or (S, m)."""
    v = F.normalize(features.detach().float(), dim=-1)
    mu = v.mean(-2, keepdim=True)
    m = min(m, v.shape[-2])
    chosen, total = [], torch.zeros_like(mu)
    taken = torch.zeros(v.shape[:-1], dtype=torch.bool, device=v.device)
    for k in range(1, m + 1):
        dist = (mu - (total + v) / k).norm(dim=-1)  # the mean if each candidate were added
        i = dist.masked_fill_(taken, float("inf")).argmin(-1, keepdim=True)
        chosen.append(i)
        taken.scatter_(-1, i, True)
        total += v.gather(-2, i.unsqueeze(-1).expand(*i.shape, v.shape[-1]))
    return torch.cat(chosen, -1).cpu()


Features = Callable[[torch.Tensor], torch.Tensor]  # uint8 images (1, n, ...) -> (S, n, d)


def _draw(n: int, k: int, gens) -> torch.Tensor:
    """For each seed, ``min(k, n)`` of ``n`` indices without replacement: (S, k)."""
    return torch.stack([torch.randperm(n, generator=g)[:k] for g in gens])


def _gather(t: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Each seed's rows ``idx`` (S, k) of ``t`` (S, n, ...)."""
    return t[torch.arange(len(idx), device=t.device)[:, None], idx.to(t.device)]


class ExemplarMemory:
    """Class-balanced exemplars per seed, updated after each task (PyCIL semantics)."""

    def __init__(
        self,
        budget: int,
        *,
        per_class: bool = False,
        selection: str = "herding",
        image_bytes: int,
        generators: list[torch.Generator],
    ):
        if selection not in ("herding", "random"):
            raise ValueError(
                f"selection={selection!r}: an exemplar memory selects by herding or random "
                "(reservoir sampling is the stream-level ReservoirBuffer)"
            )
        self.budget, self.per_class, self.selection = check_budget(budget), per_class, selection
        self.image_bytes, self.generators = image_bytes, generators
        self.by_class: dict[int, torch.Tensor] = {}  # class -> uint8 (S, m, C, H, W)

    def __len__(self) -> int:
        """Exemplars of one seed."""
        return sum(v.shape[1] for v in self.by_class.values())

    @property
    def nbytes(self) -> int:
        return len(self) * self.image_bytes

    @property
    def x(self) -> torch.Tensor:
        return torch.cat(list(self.by_class.values()), 1)

    @property
    def y(self) -> torch.Tensor:
        labels = [torch.full(v.shape[:2], c, device=v.device) for c, v in self.by_class.items()]
        return torch.cat(labels, 1)

    def quota(self, num_seen_classes: int) -> int:
        """Exemplars per class: the fixed number, or the total budget split evenly."""
        if self.per_class:
            return self.budget
        return self.budget // max(num_seen_classes, 1)

    def update(self, data: ImageData, classes: range, features: Features | None = None) -> None:
        """After a task: shrink the old classes to the new quota (keeping the exemplars
        selected first) and select exemplars of the new ``classes`` from ``data`` (shared
        by the seeds)."""
        seen = max([*self.by_class, *classes]) + 1
        m = self.quota(seen)
        for c in self.by_class:
            self.by_class[c] = self.by_class[c][:, :m]
        for c in classes:
            images = data.x[:, data.y[0] == c]  # (1, n, C, H, W)
            order = self._select(images, m, features)
            self.by_class[c] = images[0][order.to(images.device)]

    def _select(self, images: torch.Tensor, m: int, features: Features | None) -> torch.Tensor:
        n, S = images.shape[1], len(self.generators)
        if m == 0 or n == 0:
            return torch.empty(S, 0, dtype=torch.int64)
        if self.selection == "random":
            return _draw(n, m, self.generators)
        if features is None:
            raise ValueError("herding needs features: pass features=callable(images)")
        with torch.no_grad():
            return herding(features(images), m)

    def as_data(self, like: ImageData) -> ImageData:
        """The exemplars as an ImageData with ``like``'s normalisation."""
        return ImageData(self.x, self.y, like.mean, like.std)

    def sample(self, n: int, gens) -> tuple[torch.Tensor, torch.Tensor]:
        """Per seed, ``min(n, len)`` exemplars drawn without replacement: (images, labels)."""
        idx = _draw(len(self), n, gens)
        return _gather(self.x, idx), _gather(self.y, idx)


class ReservoirBuffer:
    """Reservoir sampling over the stream (Vitter's algorithm R, as in Dark Experience
    Replay), one buffer per seed: after ``seen`` samples have passed, each of them is in a
    seed's buffer with probability ``size / seen``. Optionally stores each sample's logits
    (of one fixed width, e.g. a head over all classes)."""

    def __init__(self, size: int, *, image_bytes: int, generators: list[torch.Generator]):
        self.size, self.image_bytes = check_budget(size), image_bytes
        self.generators = generators
        self.seen = 0  # samples that have passed, counting repeats over epochs
        self.count = 0  # slots filled
        self.x = self.y = self.logits = None  # allocated at the first add

    def __len__(self) -> int:
        return self.count

    @property
    def nbytes(self) -> int:
        """Bytes of one seed's buffer: images, plus float32 logits when stored."""
        logit_bytes = 0 if self.logits is None else FLOAT_BYTES * self.logits.shape[-1]
        return self.count * (self.image_bytes + logit_bytes)

    def slots(self, b: int, generator: torch.Generator) -> torch.Tensor:
        """The reservoir rule for the next ``b`` samples: the k-th sample ever seen goes to
        slot k while the buffer is not full; after that r is drawn uniform in [0, k] and
        the sample goes to slot r if r < size, else nowhere (-1)."""
        k = self.seen + torch.arange(b)
        r = (torch.rand(b, generator=generator) * (k + 1)).long()
        return torch.where(k < self.size, k, torch.where(r < self.size, r, -1))

    def add(self, x: torch.Tensor, y: torch.Tensor, logits: torch.Tensor | None = None) -> None:
        """Offer a batch (uint8 images (S, b, ...), labels (S, b), optional logits) to
        every seed's buffer. Within a batch a later sample overwrites an earlier one that
        drew the same slot, as one-by-one insertion would."""
        S, b = y.shape
        if self.x is None:
            self.x = x.new_zeros((S, self.size, *x.shape[2:]))
            self.y = y.new_zeros((S, self.size))
            if logits is not None:
                self.logits = logits.new_zeros((S, self.size, logits.shape[-1]))
        for s, g in enumerate(self.generators):
            last = {int(j): i for i, j in enumerate(self.slots(b, g).tolist()) if j >= 0}
            if not last:
                continue
            slot = torch.tensor(list(last), device=x.device)
            src = torch.tensor(list(last.values()), device=x.device)
            self.x[s, slot], self.y[s, slot] = x[s, src], y[s, src]
            if logits is not None:
                self.logits[s, slot] = logits[s, src].detach()
        self.seen += b
        self.count = min(self.size, self.seen)

    def sample(self, n: int, gens):
        """Per seed, ``min(n, len)`` stored samples without replacement:
        (images, labels, logits or None)."""
        idx = _draw(self.count, n, gens)
        logits = None if self.logits is None else _gather(self.logits, idx)
        return _gather(self.x, idx), _gather(self.y, idx), logits
