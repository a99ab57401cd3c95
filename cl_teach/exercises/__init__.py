"""Checker functions for the notebooks' exercises: feedback, not grades."""


def not_answered(answer) -> bool:
    """True (and a hint) while the student's answer is still the placeholder ``None``."""
    if answer is None:
        print("Not answered yet: replace None with your answer and run the cell again.")
        return True
    return False
