"""Joint training: at every task, train on all data of every class seen so far.

The upper bound of class-incremental learning (it breaks the rule that old data is gone).
Its memory counts what it keeps for the next task: every training image seen so far.
"""

from ..data import ImageData, Task
from .base import Method


class Joint(Method):
    def train_data(self, task: Task) -> ImageData:
        return self.stream.joint(task.index)

    def stored_bytes(self) -> dict[str, int]:
        """Every raw training image of the classes seen so far."""
        seen = self.stream.joint(self.task.index)
        return {**super().stored_bytes(), "past_data": len(seen) * self.stream.info.image_bytes}
