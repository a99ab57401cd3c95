"""Checkers for notebook 07 (summary)."""

from __future__ import annotations

from ..lessons import difference
from ..lessons.summary import METHODS, NO_MEMORY
from . import not_answered


def check_ranking(best, lowest, results) -> bool:
    """Exercise 1 (predict, then run): the best continual method and the lowest of all."""
    if not_answered(best) or not_answered(lowest):
        return False
    if best not in METHODS or lowest not in METHODS:
        print(f"Please name methods among: {', '.join(METHODS)}.")
        return False
    continual = [m for m in results if m != "joint"]
    mean = {m: sum(r.final_accuracy for r in runs) / len(runs) for m, runs in results.items()}
    top, bottom = max(continual, key=mean.get), min(results, key=mean.get)
    ties = [m for m in continual if not difference(results[top], results[m]).clear]
    low_ties = [m for m in results if not difference(results[m], results[bottom]).clear]
    right_best, right_lowest = best in ties, lowest in low_ties
    print(
        f"Best continual: {METHODS[top]} ({mean[top]:.3f}); within the seeds' spread of it: "
        f"{', '.join(METHODS[m] for m in ties)}. Lowest: {METHODS[bottom]} ({mean[bottom]:.3f}); "
        f"tied with it: {', '.join(METHODS[m] for m in low_ties)}."
    )
    if right_best and right_lowest:
        print("Correct on both.")
    elif best == "joint":
        print("Joint training is the upper bound, not a continual method: pick among the others.")
    else:
        print(
            f"{'Right' if right_best else 'Not right'} on the best, "
            f"{'right' if right_lowest else 'not right'} on the lowest. Methods without a "
            f"memory ({', '.join(METHODS[m] for m in NO_MEMORY[:2])}) cannot recall old classes."
        )
    return right_best and right_lowest
