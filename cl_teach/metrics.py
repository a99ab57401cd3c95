"""Continual-learning metrics from the accuracy matrix and per-class accuracies, and the
summary of a number over seeds.

``R[i, j]`` is the accuracy on task j's test data after training task i (NaN for j > i).
"""

from __future__ import annotations

import numpy as np


def average_incremental_accuracy(task_accuracy) -> float:
    """Mean of the accuracy on all seen classes after each task (Rebuffi et al., iCaRL)."""
    return float(np.mean(task_accuracy))


def forgetting(R) -> float:
    """Chaudhry et al. 2018: mean over old tasks j of max_{i<T-1} R[i, j] - R[T-1, j].
    0 for a single task."""
    R = np.asarray(R, dtype=float)
    T = len(R)
    if T < 2:
        return 0.0
    return float(np.mean([np.nanmax(R[: T - 1, j]) - R[T - 1, j] for j in range(T - 1)]))


def backward_transfer(R) -> float:
    """Lopez-Paz & Ranzato 2017: mean over old tasks j of R[T-1, j] - R[j, j] (negative:
    forgetting)."""
    R = np.asarray(R, dtype=float)
    T = len(R)
    if T < 2:
        return 0.0
    return float(np.mean([R[T - 1, j] - R[j, j] for j in range(T - 1)]))


def per_class_accuracy(pred, y, num_classes: int) -> np.ndarray:
    """Accuracy of each class 0..num_classes-1 (NaN where the class has no samples)."""
    pred, y = np.asarray(pred), np.asarray(y)
    acc = np.full(num_classes, np.nan)
    for c in range(num_classes):
        mask = y == c
        if mask.any():
            acc[c] = float((pred[mask] == c).mean())
    return acc


def seed_summary(values) -> dict:
    """Mean, standard deviation (n - 1) and the half-width of the 95% confidence interval
    of the mean (Student's t) of one number over seeds; spread 0 for a single seed."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    if n < 2:
        return {"mean": float(v.mean()), "std": 0.0, "ci95": 0.0, "n": n}
    from scipy.stats import t

    std = float(v.std(ddof=1))
    return {
        "mean": float(v.mean()),
        "std": std,
        "ci95": float(t.ppf(0.975, n - 1) * std / np.sqrt(n)),
        "n": n,
    }
