import math

import numpy as np
import pytest
import torch

from cl_teach.metrics import (
    average_incremental_accuracy,
    backward_transfer,
    forgetting,
    per_class_accuracy,
)
from cl_teach.train import random_crop_flip

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


def test_random_crop_flip_moves_pixels_but_keeps_them():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).view(2, 3, 8, 8) + 1
    out = random_crop_flip(x, torch.Generator().manual_seed(0), pad=2)
    assert out.shape == x.shape
    kept = set(out.flatten().tolist()) - {0.0}
    assert kept <= set(x.flatten().tolist())  # every non-padding value comes from the image
    assert not torch.equal(out, x)
