import math

import numpy as np
import pytest
import torch

from cl_teach.metrics import (
    average_incremental_accuracy,
    backward_transfer,
    forgetting,
    per_class_accuracy,
    seed_summary,
)
from cl_teach.train import BRIGHTNESS, pycil_augment

NAN = math.nan
R = [[0.9, NAN, NAN], [0.5, 0.8, NAN], [0.3, 0.6, 0.7]]


def test_forgetting_is_best_earlier_minus_final():
    # task 0: max(0.9, 0.5) - 0.3 = 0.6; task 1: 0.8 - 0.6 = 0.2
    assert forgetting(R) == pytest.approx(0.4)
    assert forgetting([[1.0]]) == 0.0


def test_backward_transfer():
    assert backward_transfer(R) == pytest.approx(((0.3 - 0.9) + (0.6 - 0.8)) / 2)


def test_average_incremental_accuracy():
    assert average_incremental_accuracy([1.0, 0.5, 0.3]) == pytest.approx(0.6)


def test_per_class_accuracy_marks_absent_classes():
    acc = per_class_accuracy([0, 1, 1, 2], [0, 1, 0, 2], 4)
    assert acc[:3].tolist() == [0.5, 1.0, 1.0] and np.isnan(acc[3])


def test_seed_summary_mean_std_and_t_interval():
    s = seed_summary([0.8, 0.9, 1.0])
    assert s["mean"] == pytest.approx(0.9) and s["std"] == pytest.approx(0.1)
    assert s["ci95"] == pytest.approx(4.302653 * 0.1 / math.sqrt(3), rel=1e-5)  # t(0.975, 2)
    assert seed_summary([0.5]) == {"mean": 0.5, "std": 0.0, "ci95": 0.0, "n": 1}


def _augment(raw, seeds=(0,)):
    return pycil_augment(raw, [torch.Generator().manual_seed(s) for s in seeds])


def test_pycil_augment_pads_black_crops_flips_and_jitters_brightness():
    """PyCIL's CIFAR transform on raw images: RandomCrop(32, padding=4) with black (0)
    padding, a horizontal flip, brightness times a factor in [1 - 63/255, 1 + 63/255]."""
    raw = torch.full((1, 64, 3, 32, 32), 128, dtype=torch.uint8)
    out = _augment(raw)
    assert out.shape == raw.shape and out.min() >= 0 and out.max() <= 1
    black = (out == 0).all(2)  # a padded pixel is black in every channel, before jitter too
    assert black.any(), "some crops must reach into the black padding"
    factors = out.amax((2, 3, 4)).flatten() / (128 / 255)  # one brightness factor per image
    assert factors.min() >= 1 - BRIGHTNESS - 1e-6 and factors.max() <= 1 + BRIGHTNESS + 1e-6
    assert factors.std() > 0.05  # drawn per image
    image = torch.arange(32, dtype=torch.uint8).repeat(1, 1, 3, 32, 1) * 4  # columns 0..124
    flips = [_augment(image, (s,))[0, 0, 0, 16] for s in range(40)]
    directions = {bool((row[8:24].diff() > 0).all()) for row in flips}
    assert directions == {True, False}, "both flipped and unflipped images occur"


def test_pycil_augment_draws_per_seed():
    raw = torch.randint(0, 256, (3, 8, 3, 32, 32), dtype=torch.uint8)
    together = _augment(raw, (0, 1, 2))
    assert torch.equal(together[1], _augment(raw[1:2], (1,))[0])  # seed 1's own draws
