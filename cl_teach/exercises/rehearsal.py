"""Checkers for notebook 02b (rehearsal under a memory budget, Dark Experience Replay)."""

from __future__ import annotations

import torch

from ..lessons import difference
from ..lessons.rehearsal import SETTING, equal_bytes
from ..memory import ExemplarMemory, herding
from . import as_number, as_whole_number, not_answered


def check_exemplars_per_class(answer) -> bool:
    """Exercise 1: a total budget of 200, digits B0Inc2 (two new classes per task): how many
    exemplars per class does the memory keep after the third task?"""
    if not_answered(answer) or (value := as_whole_number(answer)) is None:
        return False
    truth = ExemplarMemory(200, image_bytes=64, generators=[]).quota(6)
    if value == truth:
        print(
            f"Correct: 6 classes seen, 200 // 6 = {truth} each ({6 * truth} stored; the "
            "remainder stays unused). After the next task each class is cut to 200 // 8 = 25."
        )
        return True
    hint = (
        "100 is the quota after the first task; the budget is shared by all seen classes."
        if value == 100
        else "Count the classes seen after 3 tasks of 2 classes, and keep whole images."
    )
    print(f"Not quite ({value}). {hint}")
    return False


def check_first_herding_pick(my_first_pick) -> bool:
    """Exercise 2: ``my_first_pick(features) -> index`` of the sample herding picks first."""
    if not_answered(my_first_pick):
        return False
    if not callable(my_first_pick):
        print("Please define a function: def my_first_pick(features): ... and pass it.")
        return False
    g = torch.Generator().manual_seed(0)
    for trial in range(5):
        features = torch.randn(40, 6, generator=g).exp()
        truth = int(herding(features, 1)[0])
        try:
            mine = my_first_pick(features.clone())
        except Exception as err:  # the student's code failed: say how, do not raise
            print(f"Your function raised {type(err).__name__}: {err}")
            return False
        if not_answered(mine):
            return False
        mine = as_whole_number(int(mine) if isinstance(mine, torch.Tensor) else mine)
        if mine is None:
            return False
        if mine != truth:
            print(
                f"Not quite: on test {trial + 1} herding picks sample {truth}, you picked "
                f"{mine}. Hint: L2-normalise each feature vector first, then take the sample "
                "nearest the mean of the normalised vectors."
            )
            return False
    print(
        "Correct: the first exemplar is the sample nearest the class mean; each next one "
        "is chosen so that the running mean of the chosen stays near the class mean."
    )
    return True


def check_reservoir_probability(answer) -> bool:
    """Exercise 3: a reservoir of 500 slots after 10,000 samples have passed: the chance
    that the very first sample is still in it."""
    if not_answered(answer) or (value := as_number(answer)) is None:
        return False
    if abs(value - 500 / 10_000) < 1e-9:
        print(
            "Correct: 500 / 10,000 = 0.05, the same for every sample that has passed, the "
            "first as the last. That is what makes the buffer a uniform sample of the stream."
        )
        return True
    print(
        f"Not quite ({value:g}). Reservoir sampling keeps every sample seen so far with the "
        "same probability; what is it when 500 out of 10,000 are kept? (a number between 0 "
        "and 1)"
    )
    return False


def check_equal_bytes(answer) -> bool:
    """Exercise 4: Dark ER keeps 200 digits (1 x 8 x 8 uint8) with their 10 float32 logits.
    How many plain images does ER keep in the same bytes?"""
    if not_answered(answer) or (value := as_whole_number(answer)) is None:
        return False
    truth = equal_bytes(SETTING)
    if value == truth:
        print(
            f"Correct: a Dark ER sample costs 64 + 10 x 4 = 104 bytes, 200 of them 20,800 "
            f"bytes = {truth} images of 64 bytes. On CIFAR-100 the same 400 bytes of logits are "
            "13% of a 3072-byte image: the comparison is much closer to fair there."
        )
        return True
    hint = (
        "200 would be equal samples, not equal bytes."
        if value == 200
        else "A float32 logit costs 4 bytes and there is one per class; divide the total bytes "
        "by one image's 64 bytes and keep whole images."
    )
    print(f"Not quite ({value}). {hint}")
    return False


def check_dark_er_prediction(prediction, results) -> bool:
    """Exercise 5 (predict, then run): does Dark ER end clearly above ER with the same number
    of samples ("yes" or "no")?"""
    if not_answered(prediction):
        return False
    choice = str(prediction).strip().lower()
    if choice not in ("yes", "no"):
        print(f"Please answer 'yes' or 'no' (you gave {prediction!r}).")
        return False
    b = max(results["dark_er"])
    gain = difference(results["dark_er"][b], results["reservoir"][b])
    truth = "yes" if gain.clear and gain.mean > 0 else "no"
    print(
        f"{'Right' if choice == truth else 'Not this time'}: Dark ER minus ER at {b} samples "
        f"is {gain}, so the answer here is '{truth}'. Buzzega et al. report large gains on "
        "CIFAR-10 and Tiny ImageNet: see 'The toy and the paper' below."
    )
    return choice == truth
