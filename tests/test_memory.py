"""Exemplar memory: budgets, herding, reservoir sampling, byte accounting."""

import pytest
import torch
from scipy.stats import chisquare

from cl_teach.config import RunConfig
from cl_teach.data import ImageData
from cl_teach.memory import ExemplarMemory, ReservoirBuffer, herding, model_bytes


def toy_data(per_class=30, classes=10, seed=0) -> ImageData:
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (per_class * classes, 1, 4, 4), dtype=torch.uint8, generator=g)
    y = torch.arange(classes).repeat_interleave(per_class)
    return ImageData(x, y, (0.5,), (0.25,))


def pixels(images: torch.Tensor) -> torch.Tensor:
    return images.float().flatten(1)


def test_model_bytes_is_float32():
    assert model_bytes(463_504) == 1_854_016
    assert model_bytes(463_504) // 3072 == 603  # MEMO's title: one ResNet-32 = 603 exemplars


@pytest.mark.parametrize("budget", [-1, 2.5, "10", True, None])
def test_bad_budget_is_a_clear_error(budget):
    with pytest.raises(ValueError, match="budget"):
        ExemplarMemory(budget, image_bytes=16)
    with pytest.raises(ValueError, match="budget"):
        ReservoirBuffer(budget, image_bytes=16)


def test_bad_budget_in_the_config():
    with pytest.raises(ValueError, match="budget"):
        RunConfig(budget=-5)


def test_reservoir_is_not_an_exemplar_selection():
    with pytest.raises(ValueError, match="reservoir"):
        ExemplarMemory(10, selection="reservoir", image_bytes=16)


@pytest.mark.parametrize("selection", ["random", "herding"])
@pytest.mark.parametrize("budget", [0, 7, 20, 99, 200, 1000])
@pytest.mark.parametrize("steps", [[2] * 5, [5, 1, 4], [1] * 10])
def test_total_budget_never_exceeded_and_split_evenly(selection, budget, steps):
    data = toy_data()
    mem = ExemplarMemory(budget, selection=selection, image_bytes=16)
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
            assert len(images) == min(quota, 30)  # evenly: every seen class gets the quota
            if c in before:  # shrinking keeps the exemplars selected first
                assert torch.equal(images, before[c][: len(images)])
        assert mem.nbytes == 16 * len(mem)
        assert len(mem.x) == len(mem.y) == len(mem)
        assert torch.equal(
            torch.bincount(mem.y, minlength=start)[:start].unique(), torch.tensor([min(quota, 30)])
        )


def test_fixed_number_per_class():
    mem = ExemplarMemory(4, per_class=True, selection="random", image_bytes=16)
    for t in range(5):
        mem.update(toy_data(), range(2 * t, 2 * t + 2))
        assert len(mem) == 4 * 2 * (t + 1)
        assert all(len(v) == 4 for v in mem.by_class.values())


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
    mem = ExemplarMemory(10, selection="herding", image_bytes=16)
    with pytest.raises(ValueError, match="features"):
        mem.update(toy_data(), range(2))


def test_as_data_and_sample():
    data = toy_data()
    mem = ExemplarMemory(20, selection="herding", image_bytes=16)
    mem.update(data, range(4), pixels)
    as_data = mem.as_data(data)
    assert as_data.x.dtype == torch.uint8 and as_data.mean == data.mean and len(as_data) == 20
    x, y = mem.sample(8, torch.Generator().manual_seed(0))
    assert x.shape == (8, 1, 4, 4) and set(y.tolist()) <= {0, 1, 2, 3}
    assert len(mem.sample(100, torch.Generator())[0]) == 20  # at most what is stored


def test_reservoir_never_exceeds_its_size():
    data = toy_data()
    buf = ReservoirBuffer(25, image_bytes=16, generator=torch.Generator().manual_seed(0))
    for k in range(0, len(data), 32):
        buf.add(data.x[k : k + 32], data.y[k : k + 32], torch.randn(len(data.y[k : k + 32]), 10))
        assert len(buf) == min(25, buf.seen) and buf.nbytes == 16 * len(buf)
    x, y, z = buf.sample(10, torch.Generator().manual_seed(0))
    assert x.shape == (10, 1, 4, 4) and z.shape == (10, 10)


def reservoir_inclusion(buffer_slot, n=40, size=8, trials=800, seed=0) -> torch.Tensor:
    """How often each of n stream items ends up in the buffer, over many streams."""
    counts = torch.zeros(n)
    g = torch.Generator().manual_seed(seed)
    stream_x = torch.zeros((n, 1, 1, 1), dtype=torch.uint8)
    for _ in range(trials):
        buf = ReservoirBuffer(size, image_bytes=1, generator=g)
        buf.slot = buffer_slot.__get__(buf) if buffer_slot else buf.slot
        buf.add(stream_x, torch.arange(n))
        counts[buf.y[: len(buf)]] += 1
    return counts


def test_reservoir_keeps_every_seen_sample_with_equal_probability():
    counts = reservoir_inclusion(None)
    assert counts.sum() == 800 * 8
    assert chisquare(counts.numpy()).pvalue > 0.01  # uniform: 8/40 for every item


def test_the_equal_probability_test_can_fail():
    def overwrite_always(self):  # a wrong rule: once full, every new sample replaces one
        if self.seen < self.size:
            return self.seen
        return int(torch.randint(0, self.size, (1,), generator=self.generator))

    assert chisquare(reservoir_inclusion(overwrite_always).numpy()).pvalue < 1e-6


def test_to_uint8_undoes_normalisation():
    data = toy_data()
    assert torch.equal(data.to_uint8(data.to_float(data.x)), data.x)
