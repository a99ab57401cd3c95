"""Exemplar memory: budgets, herding, reservoir sampling, byte accounting."""

import pytest
import torch
from scipy.stats import chisquare

from cl_teach.config import RunConfig
from cl_teach.data import ImageData
from cl_teach.memory import ExemplarMemory, ReservoirBuffer, herding, model_bytes


def toy_data(per_class=30, classes=10, seed=0) -> ImageData:
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (1, per_class * classes, 1, 4, 4), dtype=torch.uint8, generator=g)
    y = torch.arange(classes).repeat_interleave(per_class)[None]
    return ImageData(x, y, (0.5,), (0.25,))


def gens(n=1, base=0):
    return [torch.Generator().manual_seed(base + s) for s in range(n)]


def pixels(images: torch.Tensor) -> torch.Tensor:
    """Features of one seed's network: the pixels."""
    return images.float().flatten(2)


def test_model_bytes_is_float32():
    assert model_bytes(463_504) == 1_854_016
    assert model_bytes(463_504) // 3072 == 603  # MEMO's title: one ResNet-32 = 603 exemplars


@pytest.mark.parametrize("budget", [-1, 2.5, "10", True, None])
def test_bad_budget_is_a_clear_error(budget):
    with pytest.raises(ValueError, match="budget"):
        ExemplarMemory(budget, image_bytes=16, generators=gens())
    with pytest.raises(ValueError, match="budget"):
        ReservoirBuffer(budget, image_bytes=16, generators=gens())


def test_bad_budget_in_the_config():
    with pytest.raises(ValueError, match="budget"):
        RunConfig(budget=-5)


def test_reservoir_is_not_an_exemplar_selection():
    with pytest.raises(ValueError, match="reservoir"):
        ExemplarMemory(10, selection="reservoir", image_bytes=16, generators=gens())


@pytest.mark.parametrize("selection", ["random", "herding"])
@pytest.mark.parametrize("budget", [0, 7, 20, 99, 200, 1000])
@pytest.mark.parametrize("steps", [[2] * 5, [5, 1, 4], [1] * 10])
def test_total_budget_never_exceeded_and_split_evenly(selection, budget, steps):
    data = toy_data()
    mem = ExemplarMemory(budget, selection=selection, image_bytes=16, generators=gens())
    start = 0
    for step in steps:
        before = {c: v.clone() for c, v in mem.by_class.items()}
        mem.update(data, range(start, start + step), pixels)
        start += step
        quota = budget // start
        assert mem.quota(start) == quota
        assert len(mem) <= budget
        assert sorted(mem.by_class) == list(range(start))
        for c, images in mem.by_class.items():
            assert images.shape[1] == min(quota, 30)  # evenly: every seen class gets the quota
            if c in before:  # shrinking keeps the exemplars selected first
                assert torch.equal(images, before[c][:, : images.shape[1]])
        assert mem.nbytes == 16 * len(mem)
        if len(mem):
            assert mem.x.shape[1] == mem.y.shape[1] == len(mem)
            assert torch.equal(
                torch.bincount(mem.y[0], minlength=start)[:start].unique(),
                torch.tensor([min(quota, 30)]),
            )


def test_fixed_number_per_class():
    mem = ExemplarMemory(4, per_class=True, selection="random", image_bytes=16, generators=gens())
    for t in range(5):
        mem.update(toy_data(), range(2 * t, 2 * t + 2))
        assert len(mem) == 4 * 2 * (t + 1)
        assert all(v.shape[1] == 4 for v in mem.by_class.values())


@pytest.mark.parametrize("selection", ["random", "herding"])
def test_every_seed_selects_its_own_exemplars_as_it_would_alone(selection):
    data = toy_data()

    def features(images):  # each seed's network sees other features
        return torch.stack([images[0].float().flatten(1) * (1 + s) ** k for s in range(3)
                            for k in [torch.arange(16) % (s + 1)]])  # fmt: skip

    three = ExemplarMemory(20, selection=selection, image_bytes=16, generators=gens(3))
    three.update(data, range(4), features)
    alone = ExemplarMemory(20, selection=selection, image_bytes=16, generators=gens(1, base=2))
    alone.update(data, range(4), lambda images: features(images)[2:])
    assert torch.equal(three.x[2], alone.x[0])
    assert not torch.equal(three.x[0], three.x[2])


def test_herding_picks_the_sample_nearest_the_class_mean_first():
    # normalised: (1, 0), (0, 1), (0.71, 0.71); their mean lies on the diagonal
    features = torch.tensor([[3.0, 0.0], [0.0, 0.5], [2.0, 2.0]])
    assert herding(features, 3).tolist()[0] == 2
    g = torch.Generator().manual_seed(1)
    for _ in range(20):
        f = torch.randn(50, 8, generator=g) + 2.0
        v = torch.nn.functional.normalize(f, dim=1)
        order = herding(f, 10)
        assert order[0] == (v - v.mean(0)).norm(dim=1).argmin()
        assert len(order.unique()) == 10  # never the same sample twice


def test_herding_of_several_seeds_is_each_seeds_own_herding():
    g = torch.Generator().manual_seed(3)
    f = torch.randn(3, 60, 8, generator=g).exp()
    together = herding(f, 12)
    assert together.shape == (3, 12)
    for s in range(3):
        assert torch.equal(together[s], herding(f[s], 12))
    assert not torch.equal(together[0], together[1])


def test_herding_mean_beats_random_mean():
    g = torch.Generator().manual_seed(2)
    f = torch.randn(200, 16, generator=g).exp()  # skewed, so a few samples do not match the mean
    v = torch.nn.functional.normalize(f, dim=1)
    herd = (v[herding(f, 10)].mean(0) - v.mean(0)).norm()
    rand = [
        (v[torch.randperm(200, generator=g)[:10]].mean(0) - v.mean(0)).norm() for _ in range(50)
    ]
    assert herd < min(rand)


def test_herding_asks_for_features():
    mem = ExemplarMemory(10, selection="herding", image_bytes=16, generators=gens())
    with pytest.raises(ValueError, match="features"):
        mem.update(toy_data(), range(2))


def test_as_data_and_sample():
    data = toy_data()
    mem = ExemplarMemory(20, selection="herding", image_bytes=16, generators=gens(2))
    mem.update(data, range(4), lambda images: pixels(images).expand(2, -1, -1))
    as_data = mem.as_data(data)
    assert as_data.x.dtype == torch.uint8 and as_data.mean == data.mean and len(as_data) == 20
    x, y = mem.sample(8, gens(2))
    assert x.shape == (2, 8, 1, 4, 4) and set(y.flatten().tolist()) <= {0, 1, 2, 3}
    assert mem.sample(100, gens(2))[0].shape[1] == 20  # at most what is stored


def test_reservoir_never_exceeds_its_size_and_counts_logits_as_bytes():
    data = toy_data()
    buf = ReservoirBuffer(25, image_bytes=16, generators=gens(2))
    for k in range(0, len(data), 32):
        x, y = data.x[:, k : k + 32].expand(2, -1, -1, -1, -1), data.y[:, k : k + 32].expand(2, -1)
        buf.add(x, y, torch.randn(2, y.shape[1], 10))
        # a stored sample: its 16-byte image and 10 float32 logits
        assert len(buf) == min(25, buf.seen) and buf.nbytes == (16 + 4 * 10) * len(buf)
    x, y, z = buf.sample(10, gens(2))
    assert x.shape == (2, 10, 1, 4, 4) and z.shape == (2, 10, 10)
    assert not torch.equal(buf.y[0], buf.y[1])  # each seed keeps its own samples


def test_reservoir_within_a_batch_matches_one_by_one_insertion():
    """Offering a batch at once equals offering its samples one by one (a later sample
    overwrites an earlier one that drew the same slot)."""
    n, size = 200, 10
    x = torch.arange(n, dtype=torch.uint8).view(1, n, 1, 1, 1)
    y = torch.arange(n).view(1, n)
    batch = ReservoirBuffer(size, image_bytes=1, generators=gens())
    batch.add(x, y)
    single = ReservoirBuffer(size, image_bytes=1, generators=gens())
    g = torch.Generator().manual_seed(0)
    draws = torch.rand(n, generator=g)  # the uniform numbers the batch drew, in order
    for k in range(n):
        r = int(draws[k] * (k + 1))
        slot = k if k < size else (r if r < size else -1)
        if slot >= 0:
            single.y = y[:, :size].clone() if single.y is None else single.y
            single.y[0, slot] = y[0, k]
    assert torch.equal(batch.y, single.y)


def reservoir_inclusion(slots=None, n=40, size=8, trials=800) -> torch.Tensor:
    """How often each of n stream items ends up in the buffer, over many streams (offered
    in batches of 7)."""
    counts = torch.zeros(n)
    g = torch.Generator().manual_seed(0)
    stream_x = torch.zeros((1, n, 1, 1, 1), dtype=torch.uint8)
    for _ in range(trials):
        buf = ReservoirBuffer(size, image_bytes=1, generators=[g])
        if slots:
            buf.slots = slots.__get__(buf)
        for k in range(0, n, 7):
            buf.add(stream_x[:, k : k + 7], torch.arange(k, min(n, k + 7))[None])
        counts[buf.y[0, : len(buf)]] += 1
    return counts


def test_reservoir_keeps_every_seen_sample_with_equal_probability():
    counts = reservoir_inclusion(None)
    assert counts.sum() == 800 * 8
    assert chisquare(counts.numpy()).pvalue > 0.01  # uniform: 8/40 for every item


def test_the_equal_probability_test_can_fail():
    def overwrite_always(self, b, generator):  # a wrong rule: once full, always replace
        k = self.seen + torch.arange(b)
        return torch.where(k < self.size, k, torch.randint(0, self.size, (b,), generator=generator))

    assert chisquare(reservoir_inclusion(overwrite_always).numpy()).pvalue < 1e-6
