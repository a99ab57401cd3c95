"""The slowly-changing regression problem (Dohare et al., Nature 2024; their code's
``lop/slowly_changing_regression``): the smallest problem on which backprop loses
plasticity, and the one where continual backprop was first shown to keep it.

The problem, per seed: an input of 20 bits, of which the first ``slow_bits`` (15) are held
for ``phase`` steps and then all redrawn, the other 5 redrawn at every step; the target is a
fixed random network of ``target_features`` (100) linear threshold units with weights and
biases of +-1 (unit k fires when its input exceeds beta x 21 minus its number of -1
weights, beta 0.7) and an output layer of +-1 weights. Nothing is forgotten and nothing new
appears: only the slow bits change, so a network that stays plastic keeps tracking them.

The learner: a 20-``hidden``-1 ReLU network (5 units, Kaiming-uniform input weights, zero
biases), one example per step, squared error, plain SGD. Its error on each example is
measured before the update on it (online error). Methods, as on the image tasks: ``bp``;
``retrain`` (a fresh network at every redraw); ``head_reset`` (the output layer
re-initialised at every redraw); ``l2`` (weight decay); ``snp`` (the same weight decay plus
Gaussian noise on every parameter after every step); ``cbp`` (continual backprop with the
contribution utility, a maturity threshold and zero outgoing weights for a new unit).

Why a second implementation: one example per step makes the cost of a step all overhead, so
this module trains every (method, seed) pair of a grid side by side as rows ("lanes") of
NumPy arrays, a few microseconds per operation for all of them, where the package's
PyTorch learners would take a millisecond a step per method. The rules are those of
:mod:`.continual_backprop` (whose :func:`~.continual_backprop.running_utility` it calls)
and :mod:`.shrink_perturb`. Each lane draws from its own generators (by seed and purpose),
so a lane's numbers do not depend on the lanes beside it.

How it differs from the reference code: step 0.03 and a redraw every 5,000 steps for
300,000 steps (the reference: step 0.01, 10,000, one million); the contribution utility of
the Nature paper (the reference's regression runs use an "adaptable contribution" that also
centres the activation and divides by the input weights' size); maturity 100 (the
reference's configuration names 100 but its code reads another key and uses 10).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass

import numpy as np

from .. import cache
from .continual_backprop import running_utility

METHODS = ("bp", "retrain", "head_reset", "l2", "snp", "cbp")
#: settings that only some methods read
OWNERS = {
    "l2_weight_decay": ("l2", "snp"),
    "noise_std": ("snp",),
    "replacement_rate": ("cbp",),
    "replacement": ("cbp",),
    "maturity": ("cbp",),
    "decay": ("cbp",),
}


@dataclass(frozen=True)
class RegressionConfig:
    method: str = "bp"
    steps: int = 300_000  # examples, one per step
    phase: int = 5_000  # steps between redraws of the slow bits
    lr: float = 0.03
    hidden: int = 5
    inputs: int = 20
    slow_bits: int = 15
    target_features: int = 100
    beta: float = 0.7
    l2_weight_decay: float = 1e-2
    noise_std: float = 5e-3
    replacement_rate: float = 1e-3
    replacement: str = "utility"
    maturity: int = 100
    decay: float = 0.99
    seed: int = 0

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method={self.method!r}: choose one of {', '.join(METHODS)}")
        if self.replacement not in ("utility", "random"):
            raise ValueError(f"replacement={self.replacement!r}: choose utility or random")
        if self.steps < self.phase or self.steps % self.phase:
            raise ValueError(f"steps={self.steps}: a whole number of phases of {self.phase}")
        if not 0 < self.slow_bits < self.inputs:
            raise ValueError(f"slow_bits={self.slow_bits}: between 1 and inputs - 1")
        if not 0 <= self.decay < 1 or not 0 <= self.replacement_rate <= 1:
            raise ValueError("decay must be in [0, 1) and replacement_rate in [0, 1]")

    def replace(self, **changes) -> RegressionConfig:
        return dataclasses.replace(self, **changes)

    def relevant(self) -> dict:
        """The settings that change this method's run (see :data:`OWNERS`)."""
        items = dataclasses.asdict(self).items()
        return {k: v for k, v in items if self.method in OWNERS.get(k, METHODS)}

    @property
    def problem(self) -> tuple:
        """What the lanes of one batch must share: everything but the method's settings."""
        own = set(OWNERS) | {"method", "seed"}
        return tuple(v for k, v in dataclasses.asdict(self).items() if k not in own)


def generator(seed: int, purpose: str) -> np.random.Generator:
    """Seed ``seed``'s generator for ``purpose`` (independent streams)."""
    digest = hashlib.blake2b(f"{purpose}/{seed}".encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(digest, "little"))


def target_network(cfg: RegressionConfig, g: np.random.Generator):
    """The target: +-1 weights and biases, thresholds beta x (inputs + 1) minus each unit's
    number of -1 weights (the reference's LTU network)."""
    sign = lambda *shape: g.integers(0, 2, shape) * 2 - 1.0  # noqa: E731
    w, b = sign(cfg.target_features, cfg.inputs), sign(cfg.target_features)
    v, c = sign(cfg.target_features), sign(1)[0]
    threshold = cfg.beta * (cfg.inputs + 1) - (cfg.inputs - w.sum(1) + b) / 2
    return w, b, threshold, v, c


def phase_data(cfg: RegressionConfig, target, g: np.random.Generator):
    """One phase of examples: inputs (phase, inputs + 1; the last column 1 for the bias)
    and targets (phase,)."""
    w, b, threshold, v, c = target
    x = np.ones((cfg.phase, cfg.inputs + 1))
    x[:, : cfg.slow_bits] = g.integers(0, 2, cfg.slow_bits)
    x[:, cfg.slow_bits : cfg.inputs] = g.integers(0, 2, (cfg.phase, cfg.inputs - cfg.slow_bits))
    features = (x[:, : cfg.inputs] @ w.T + b > threshold).astype(float)
    return x, features @ v + c


class Lanes:
    """The networks and learners of a batch of (config, seed) lanes: input weights ``w1``
    (lanes, inputs + 1, hidden; the last row the biases), output weights ``w2`` (lanes,
    hidden) and bias ``b2``, and continual backprop's utility ``u`` and ``age``."""

    def __init__(self, cfgs: list[RegressionConfig]):
        self.cfgs, L, H = cfgs, len(cfgs), cfgs[0].hidden
        col = lambda name: np.array([getattr(c, name) for c in cfgs], dtype=float)  # noqa: E731
        method = np.array([c.method for c in cfgs])
        self.wd = np.where(np.isin(method, ("l2", "snp")), col("l2_weight_decay"), 0.0)
        self.sigma = np.where(method == "snp", col("noise_std"), 0.0)
        self.rate = np.where(method == "cbp", col("replacement_rate"), 0.0)
        self.eta, self.maturity = col("decay")[:, None], col("maturity")[:, None]
        self.cbp = np.flatnonzero(self.rate > 0)
        self.noisy = np.flatnonzero(self.sigma > 0)
        self.random = {
            purpose: [generator(c.seed, purpose) for c in cfgs]
            for purpose in ("init", "noise", "replacement")
        }
        self.w1, self.w2, self.b2 = (
            np.zeros((L, cfgs[0].inputs + 1, H)),
            np.zeros((L, H)),
            np.zeros(L),
        )
        for lane in range(L):
            self.init_input(lane, np.arange(H))
            self.init_output(lane)
        self.u, self.age = np.zeros((L, H)), np.zeros((L, H))
        self.due = np.zeros(L)  # replacements earned and not yet made
        self.replaced = np.zeros(L, dtype=int)

    def init_input(self, lane: int, units: np.ndarray) -> None:
        """Kaiming-uniform input weights (ReLU gain), zero bias, for ``units`` of ``lane``."""
        n_in = self.cfgs[lane].inputs
        bound = np.sqrt(2) * np.sqrt(3 / n_in)
        g = self.random["init"][lane]
        self.w1[lane, :n_in, units] = g.uniform(-bound, bound, (len(units), n_in))
        self.w1[lane, n_in, units] = 0.0

    def init_output(self, lane: int) -> None:
        """Kaiming-uniform output weights (linear gain), zero bias."""
        H = self.w2.shape[1]
        self.w2[lane] = self.random["init"][lane].uniform(-np.sqrt(3 / H), np.sqrt(3 / H), H)
        self.b2[lane] = 0.0

    def new_phase(self, first: bool) -> None:
        """The method's task-boundary step: a fresh network, or a fresh output layer."""
        if first:
            return
        for lane, cfg in enumerate(self.cfgs):
            if cfg.method == "retrain":
                self.init_input(lane, np.arange(self.w2.shape[1]))
            if cfg.method in ("retrain", "head_reset"):
                self.init_output(lane)

    def noise(self, steps: int) -> np.ndarray | None:
        """Shrink & Perturb's noise for ``steps`` steps of each noisy lane, drawn ahead:
        (steps, noisy lanes, parameters)."""
        if not len(self.noisy):
            return None
        size = self.w1[0].size + self.w2[0].size + 1
        draws = [self.random["noise"][lane].standard_normal((steps, size)) for lane in self.noisy]
        return np.stack(draws, 1) * self.sigma[self.noisy, None]

    def perturb(self, eps: np.ndarray) -> None:
        n1, n2 = self.w1[0].size, self.w2.shape[1]
        k = self.noisy
        self.w1[k] += eps[:, :n1].reshape(self.w1[k].shape)
        self.w2[k] += eps[:, n1 : n1 + n2]
        self.b2[k] += eps[:, -1]

    def update_utility(self, h: np.ndarray) -> None:
        """Continual backprop after a step: the running average of each unit's contribution
        (its activation on this step's example, its outgoing weight after the step), ages,
        and the replacements due (rate x mature units, fractions carried over)."""
        k = self.cbp
        self.u[k] = running_utility(self.u[k], np.abs(h[k]), np.abs(self.w2[k]), self.eta[k])
        self.age[k] += 1
        self.due[k] += self.rate[k] * (self.age[k] > self.maturity[k]).sum(1)
        for lane in k[self.due[k] >= 1]:
            n = int(self.due[lane])
            self.due[lane] -= n
            self.replace(lane, self.choose(lane, n))

    def bias_corrected_utility(self, lane: int) -> np.ndarray:
        correction = np.maximum(1 - self.eta[lane] ** self.age[lane], 1e-12)
        return self.u[lane] / correction

    def choose(self, lane: int, n: int) -> np.ndarray:
        """The ``n`` mature units of ``lane`` to replace: the lowest bias-corrected utility,
        or (``replacement="random"``) mature units drawn at random."""
        mature = np.flatnonzero(self.age[lane] > self.maturity[lane])
        if self.cfgs[lane].replacement == "random":
            return self.random["replacement"][lane].permutation(mature)[:n]
        order = np.argsort(self.bias_corrected_utility(lane)[mature], kind="stable")
        return mature[order[:n]]

    def replace(self, lane: int, units: np.ndarray) -> None:
        """Fresh input weights, zero bias and zero outgoing weights (the output does not
        change), utility and age 0."""
        if not len(units):
            return
        self.init_input(lane, units)
        self.w2[lane, units] = 0.0
        self.u[lane, units] = 0.0
        self.age[lane, units] = 0
        self.replaced[lane] += len(units)


def train(cfgs: list[RegressionConfig]) -> list[dict]:
    """Train every lane of ``cfgs`` (one problem, see :attr:`RegressionConfig.problem`) side
    by side; one result per lane: the online squared error averaged per phase, the dormant
    fraction at the end of each phase (units zero on all of the phase's examples) and the
    units replaced."""
    start = time.perf_counter()
    cfg = cfgs[0]
    seeds = sorted({c.seed for c in cfgs})
    row = np.array([seeds.index(c.seed) for c in cfgs])
    data_gens = {s: generator(s, "data") for s in seeds}
    targets = {s: target_network(cfg, generator(s, "target")) for s in seeds}
    net = Lanes(cfgs)
    lr, wd = cfg.lr, net.wd
    phases = cfg.steps // cfg.phase
    error = np.zeros((len(cfgs), phases))
    dormant = np.zeros((len(cfgs), phases))
    for p in range(phases):
        made = [phase_data(cfg, targets[s], data_gens[s]) for s in seeds]
        X, Y = np.stack([m[0] for m in made])[row], np.stack([m[1] for m in made])[row]
        net.new_phase(p == 0)
        eps = net.noise(cfg.phase)
        active = np.zeros(net.w2.shape, dtype=bool)
        total = np.zeros(len(cfgs))
        for t in range(cfg.phase):
            x = X[:, t]
            z = np.matmul(x[:, None, :], net.w1)[:, 0]
            h = np.maximum(z, 0.0)
            active |= h > 0
            e = (h * net.w2).sum(1) + net.b2 - Y[:, t]
            total += e * e
            g = 2 * e
            dh = (g[:, None] * net.w2) * (z > 0)
            net.w2 -= lr * (g[:, None] * h + wd[:, None] * net.w2)
            net.b2 -= lr * (g + wd * net.b2)
            net.w1 -= lr * (x[:, :, None] * dh[:, None, :] + wd[:, None, None] * net.w1)
            if eps is not None:
                net.perturb(eps[t])
            if len(net.cbp):
                net.update_utility(h)
        error[:, p] = total / cfg.phase
        dormant[:, p] = (~active).mean(1)
    seconds = time.perf_counter() - start
    late = max(1, phases // 5)
    return [
        {
            "method": c.method,
            "seed": c.seed,
            "phase_error": error[i].tolist(),
            "late_error": float(error[i, -late:].mean()),
            "dormant_fraction": dormant[i].tolist(),
            "units_replaced": int(net.replaced[i]),
            "seconds": seconds,
            "config": dataclasses.asdict(c),
        }
        for i, c in enumerate(cfgs)
    ]


def run_regression_grid(configs: dict, seeds, *, use_cache: bool = True) -> dict:
    """Every config of ``configs`` (``{label: RegressionConfig}``, one problem) over
    ``seeds``: ``{label: [result per seed]}``. Cached per config and seed; the missing ones
    train side by side in one batch of lanes."""
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("no seeds given: ask for at least one")
    if len({c.problem for c in configs.values()}) > 1:
        raise ValueError("the configs of one grid must share the problem (all but the method)")
    wanted = {(label, s): cfg.replace(seed=s) for label, cfg in configs.items() for s in seeds}
    found = {}
    for key, cfg in wanted.items():
        hit = cache.load("regression", cfg.relevant()) if use_cache else None
        if hit is not None:
            found[key] = {**hit, "config": dataclasses.asdict(cfg), "cached": True}
    missing = {}
    for key, cfg in wanted.items():  # one lane per distinct run
        if key not in found:
            missing.setdefault(tuple(sorted(cfg.relevant().items())), (cfg, []))[1].append(key)
    if missing:
        lanes = [cfg for cfg, _ in missing.values()]
        for (cfg, keys), result in zip(missing.values(), train(lanes), strict=True):
            if use_cache:
                cache.save("regression", cfg.relevant(), result)
            for key in keys:
                found[key] = {**result, "config": dataclasses.asdict(wanted[key]), "cached": False}
    return {label: [found[(label, s)] for s in seeds] for label in configs}
