"""Plasticity diagnostics on networks whose answer is known by construction."""

import math

import pytest
import torch
from torch import nn

from cl_teach.models import cnn
from cl_teach.plasticity import diagnose, dormant_units, effective_rank, stable_rank
from cl_teach.plasticity.diagnostics import relu_outputs, weight_magnitude


def _two_unit_net() -> nn.Sequential:
    """Unit 0 always negative before the ReLU (dormant), unit 1 always positive."""
    net = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].bias.copy_(torch.tensor([-1.0, 1.0]))
    return net


def test_always_negative_unit_is_dormant_always_active_is_not():
    net = _two_unit_net()
    x = torch.randn(200, 3)
    h = relu_outputs(net, x)["1"]
    assert dormant_units(h).tolist() == [True, False]
    d = diagnose(net, x)
    assert d["dormant_fraction"] == 0.5
    assert d["dormant_fraction_per_layer"] == {"1": 0.5}


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


def test_weight_magnitude_and_cnn_with_batchnorm():
    net = _two_unit_net()
    assert weight_magnitude(net) == 0.0
    backbone = cnn((1, 8, 8), width=4)
    d = diagnose(backbone, torch.randn(32, 1, 8, 8))
    assert set(d["dormant_fraction_per_layer"]) == {"stem.2", "stage1.2", "stage2.2"}
    assert 0 <= d["dormant_fraction"] <= 1
    assert 1 <= d["effective_rank"] <= 16 and 1 <= d["stable_rank"] <= 16
    assert math.isfinite(d["weight_magnitude"]) and d["weight_magnitude"] > 0
    assert backbone.training  # the probe does not leave the network in eval mode
