"""Checkers for notebook 02b (rehearsal under a memory budget, Dark Experience Replay)."""

from __future__ import annotations

import numpy as np
import torch

from ..lessons.rehearsal import SELECTIONS, SETTING, equal_bytes, logits_vs_er
from ..memory import ExemplarMemory, herding
from . import as_number, as_whole_number, fresh_generator, not_answered
from .der import attempt


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


def check_herding(my_herding) -> bool:
    """Exercise 2: ``my_herding(features, m)``: the indices of the ``m`` samples herding
    picks, in the order picked, run on fresh features against ``cl_teach.memory.herding``."""
    if not_answered(my_herding):
        return False
    g = fresh_generator()
    for trial, (n, d, m) in enumerate(((40, 6, 1), (30, 5, 8), (25, 12, 25), (60, 3, 10))):
        features = torch.randn(n, d, generator=g).exp() * torch.rand(n, 1, generator=g)
        truth = herding(features, m).tolist()
        ok, mine = attempt(my_herding, features.clone(), m)
        if not ok or not_answered(mine):
            return False
        try:
            mine = [int(i) for i in torch.as_tensor(mine).flatten().tolist()]
        except (TypeError, ValueError):
            print("Please return the picked indices (a list or a tensor of whole numbers).")
            return False
        if mine != truth:
            pairs = enumerate(zip(mine, truth, strict=False))
            first = next((k for k, (a, b) in pairs if a != b), None)
            where = (
                f"you return {len(mine)} indices for m = {m}"
                if first is None
                else f"pick {first + 1} is sample {truth[first]}, you picked {mine[first]}"
            )
            hint = (
                "L2-normalise each feature vector before anything else."
                if first == 0
                else "At step k, add each candidate to the sum of the chosen ones, divide by "
                "k, and take the candidate whose mean lands nearest the class mean; never pick "
                "a sample twice."
            )
            print(f"Not quite: on test {trial + 1} ({n} samples, m = {m}) {where}. {hint}")
            return False
    print(
        "Correct: your herding picks what the package's does, in the same order. The first "
        "pick is the sample nearest the class mean; each next one keeps the running mean of "
        "the chosen near it, so shrinking the memory to its first picks keeps it representative."
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


def check_logits_prediction(digits, one_pass, results: dict, passed_once: dict) -> bool:
    """Exercise 5 (predict, then run): does Dark ER end clearly above ER with the same number
    of samples, on the digits (``results``) and in one pass over MNIST (``passed_once``)?
    Each answer "yes" or "no"."""
    answers = {"digits": digits, "one pass": one_pass}
    if any(not_answered(a) for a in answers.values()):
        return False
    choices = {k: str(a).strip().lower() for k, a in answers.items()}
    if any(c not in ("yes", "no") for c in choices.values()):
        print(f"Please answer 'yes' or 'no' for each (you gave {digits!r} and {one_pass!r}).")
        return False
    right = True
    for name, res in (("digits", results), ("one pass", passed_once)):
        gain = logits_vs_er(res)["Dark ER samples"]
        truth = "yes" if gain.above(0) else "no"
        right &= choices[name] == truth
        print(f"{name}: Dark ER minus ER at equal samples {gain}: '{truth}' "
              f"({'as you said' if choices[name] == truth else 'not what you said'})")  # fmt: skip
    if not right:
        print(
            "What differs between the two settings: ten epochs per task on the digits, one "
            "pass on MNIST. What does a stored row of logits tell the network that the label "
            "does not, and when would that matter most?"
        )
    return right


def check_selection_prediction(prediction, results: dict) -> bool:
    """Exercise 1 (predict, then run): which selection ("herding", "random" or "reservoir")
    ends highest at the smallest budget of ``results`` (:func:`rehearsal.runs`)?"""
    if not_answered(prediction):
        return False
    said = str(prediction).strip().lower()
    if said not in SELECTIONS:
        print(f"Please answer one of {', '.join(SELECTIONS)} (you gave {prediction!r}).")
        return False
    small = min(results["herding"])
    means = {s: float(np.mean([r.final_accuracy for r in results[s][small]])) for s in SELECTIONS}
    best = max(means, key=means.get)
    numbers = ", ".join(f"{s} {v:.3f}" for s, v in means.items())
    print(f"{'Right' if said == best else 'Not this time'}: at {small} exemplars {numbers} "
          "(mean over seeds; the claims below say which differences are clear).")  # fmt: skip
    return said == best
