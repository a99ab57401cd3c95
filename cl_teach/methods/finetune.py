"""Fine-tuning: train on each new task only. The lower bound: it forgets."""

from .base import Method


class FineTune(Method):
    """Sequential training with cross-entropy over all seen classes, nothing else."""
