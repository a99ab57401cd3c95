"""Plasticity diagnostics on networks whose answer is known by construction."""

import math

import pytest
import torch
from torch import nn

from cl_teach.layers import Conv2d, Linear
from cl_teach.models import cnn, resnet18
from cl_teach.plasticity import diagnose, dormant_units, effective_rank, stable_rank
from cl_teach.plasticity.diagnostics import weight_magnitude
from cl_teach.plasticity.sites import Sites
from cl_teach.train import SeedRandom


def _two_unit_net(seeds=(0,)) -> nn.Sequential:
    """Unit 0 always negative before the ReLU (dormant), unit 1 always positive."""
    net = nn.Sequential(Linear(3, 2, SeedRandom(seeds)("init")), nn.ReLU())
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].bias.copy_(torch.tensor([-1.0, 1.0]))
    return net


def test_always_negative_unit_is_dormant_always_active_is_not():
    net = _two_unit_net()
    d = diagnose(net, torch.randn(1, 200, 3))
    assert len(d) == 1
    assert d[0]["dormant_mask"] == {"1": [True, False]}
    assert d[0]["dormant_fraction"] == 0.5
    assert d[0]["dormant_fraction_per_site"] == {"1": 0.5}


def test_threshold_counts_the_active_fraction():
    h = torch.zeros(100, 3)
    h[:1, 0] = 1.0  # active on 1% of inputs
    h[:5, 1] = 1.0  # active on 5%
    assert dormant_units(h, threshold=0.01).tolist() == [False, False, True]
    assert dormant_units(h, threshold=0.02).tolist() == [True, False, True]


def test_conv_units_count_samples_and_positions():
    h = torch.zeros(10, 2, 4, 4)
    h[0, 0, 0, 0] = 1.0  # one position of 160: below 1%
    h[:, 1, 0, 0] = 1.0  # 10 of 160
    assert dormant_units(h).tolist() == [True, False]


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5, "1%"])
def test_threshold_is_validated(bad):
    with pytest.raises(ValueError, match="threshold"):
        dormant_units(torch.ones(4, 2), threshold=bad)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_effective_rank_of_k_equal_orthogonal_directions_is_k(k):
    q, _ = torch.linalg.qr(torch.randn(50, 50, dtype=torch.float64))
    features = 2.5 * q[:, :k] @ q[:k, :]  # k equal singular values
    assert effective_rank(features) == pytest.approx(k, rel=1e-6)
    assert stable_rank(features) == k


def test_stable_rank_keeps_99_percent_of_the_singular_values():
    features = torch.diag(torch.tensor([100.0, 0.5, 0.4, 0.1]))
    assert stable_rank(features) == 1  # 100 / 101 >= 0.99
    assert stable_rank(torch.diag(torch.tensor([50.0, 49.0, 1.0]))) == 2  # 99 / 100 = 0.99
    assert stable_rank(torch.diag(torch.tensor([50.0, 48.0, 2.0]))) == 3  # 98 / 100 < 0.99
    assert 2 < effective_rank(torch.diag(torch.tensor([50.0, 48.0, 2.0]))) < 3


def test_weight_magnitude_counts_linear_and_conv_weights_only():
    net = _two_unit_net()
    assert weight_magnitude(net) == [0.0]  # the biases (1) are not weights
    backbone = cnn((1, 8, 8), SeedRandom([0, 1])("init"), width=4)
    convs = [m.weight.detach() for m in backbone.modules() if isinstance(m, Conv2d)]
    for s, magnitude in enumerate(weight_magnitude(backbone)):  # BatchNorm's 1s left out
        expected = sum(float(w[s].abs().sum()) for w in convs) / sum(w[s].numel() for w in convs)
        assert magnitude == pytest.approx(expected)


def test_cnn_with_batchnorm_per_seed():
    backbone = cnn((1, 8, 8), SeedRandom([0, 1])("init"), width=4)
    d = diagnose(backbone, torch.randn(2, 32, 1, 8, 8))
    assert len(d) == 2 and d[0]["weight_magnitude"] != d[1]["weight_magnitude"]
    for seed in d:
        assert set(seed["dormant_fraction_per_site"]) == {"stem.2", "stage1.2", "stage2.2"}
        assert 0 <= seed["dormant_fraction"] <= 1
        assert 1 <= seed["effective_rank"] <= 16 and 1 <= seed["stable_rank"] <= 16
        assert math.isfinite(seed["weight_magnitude"]) and seed["weight_magnitude"] > 0
    assert backbone.training  # the probe does not leave the network in eval mode


def _resnet(seeds=(0, 1)):
    return resnet18((3, 16, 16), SeedRandom(seeds)("init"))


def test_resnet18_counts_each_call_of_a_relu_module_as_its_own_site():
    """A residual block calls one ReLU module twice: 17 sites (stem, then each of the 8
    blocks' inner and output units), 3904 units, as in the paper's ResNet-18."""
    net = _resnet()
    sites = Sites(net, lambda h: h.shape[2])
    net(torch.randn(2, 8, 3, 16, 16))
    sites.remove()
    units = sites.values()
    assert len(units) == 17 and sum(units.values()) == 3904
    assert list(units)[:3] == ["stem.2", "layer1.0.relu#1", "layer1.0.relu#2"]
    assert units["layer4.1.relu#2"] == 512


def test_resnet18_dormant_units_per_site_and_per_seed():
    net = _resnet()
    with torch.no_grad():  # seed 0: layer2.0's inner units never fire
        net.layer2[0].bn1.weight[0], net.layer2[0].bn1.bias[0] = 0.0, -1.0
    d = diagnose(net, torch.randn(2, 8, 3, 16, 16))
    inner, out = "layer2.0.relu#1", "layer2.0.relu#2"
    assert d[0]["dormant_fraction_per_site"][inner] == 1.0
    assert d[0]["dormant_fraction_per_site"][out] < 1.0  # the identity path keeps them alive
    assert d[1]["dormant_fraction_per_site"][inner] < 1.0  # seed 1 is untouched
    assert len(d[0]["dormant_mask"][inner]) == 128
    masks = d[0]["dormant_mask"].values()
    assert d[0]["dormant_fraction"] == sum(map(sum, masks)) / 3904
    assert 1 <= d[0]["effective_rank"] <= 8 and 1 <= d[0]["stable_rank"] <= 8  # 8 probe images
