"""Checkers for notebook 02 (rehearsal and regularization)."""

from __future__ import annotations

import torch

from ..data import dataset_info
from ..memory import ExemplarMemory, herding, model_bytes
from ..models import count_parameters, resnet32
from . import not_answered


def check_exemplars_per_class(answer) -> bool:
    """Exercise 1: total budget 200, stream B0Inc2 on digits; exemplars per class after
    the third task."""
    if not_answered(answer):
        return False
    truth = ExemplarMemory(200, image_bytes=64).quota(6)
    if int(answer) == truth:
        print(
            f"Correct: 6 classes seen, 200 // 6 = {truth} each ({6 * truth} stored; the "
            "remainder stays unused). After task 4 each class is cut to 200 // 8 = 25."
        )
        return True
    hint = (
        "Count the classes seen after 3 tasks of 2 classes."
        if int(answer) != 100
        else ("100 is the quota after the first task; the budget is shared by all seen classes.")
    )
    print(f"Not quite ({answer}). {hint}")
    return False


def check_exemplars_per_model(answer) -> bool:
    """Exercise 2: how many CIFAR images (uint8, 3x32x32) take the memory of one ResNet-32
    stored as float32? (whole images, rounded down)"""
    if not_answered(answer):
        return False
    params = count_parameters(resnet32())
    truth = model_bytes(params) // dataset_info("cifar100").image_bytes
    if int(answer) == truth:
        print(
            f"Correct: {params:,} parameters x 4 bytes / 3072 bytes = {truth}: 'A Model or "
            f"{truth} Exemplars', the title of the MEMO paper (notebook 04)."
        )
        return True
    print(
        f"Not quite ({answer}). One parameter is a float32 (4 bytes); one CIFAR image is "
        f"3 x 32 x 32 uint8 values. ResNet-32 has {params:,} parameters."
    )
    return False


def check_reservoir_probability(answer) -> bool:
    """Exercise 3: a reservoir of 500 slots after 10,000 samples have passed; the chance
    that the very first sample is still in it."""
    if not_answered(answer):
        return False
    truth = 500 / 10_000
    if abs(float(answer) - truth) < 1e-3:
        print(
            "Correct: 500 / 10,000 = 0.05, the same for every sample that has passed, the "
            "first as the last. That is what makes the buffer a uniform sample of the stream."
        )
        return True
    print(
        f"Not quite ({answer}). Reservoir sampling keeps every sample seen so far with the "
        "same probability; what is it when 500 out of 10,000 are kept?"
    )
    return False


def check_first_herding_pick(my_first_pick) -> bool:
    """Exercise 4: ``my_first_pick(features) -> index`` of the sample herding picks first."""
    if not_answered(my_first_pick):
        return False
    g = torch.Generator().manual_seed(0)
    for trial in range(5):
        features = torch.randn(40, 6, generator=g).exp()
        truth = int(herding(features, 1)[0])
        mine = my_first_pick(features.clone())
        if not_answered(mine):
            return False
        mine = int(mine)
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


EWC_CHOICES = {
    "a": "EWC's Fisher is computed on too few samples.",
    "b": "The penalty protects the weights of old classes, but nothing in the loss of a new "
    "task ever contrasts old classes against new ones, so the new classes' logits win.",
    "c": "EWC forgets the Fisher of earlier tasks.",
}


def check_ewc_failure(answer) -> bool:
    """Exercise 5: why does EWC help task-incremental but not class-incremental learning?"""
    if not_answered(answer):
        return False
    if str(answer).strip().lower() == "b":
        print(
            "Correct: with the task identity given, the old task's classes compete only "
            "among themselves, and EWC keeps their features. Without it, the old and new "
            "classes compete in one softmax, and no loss term ever taught the network to "
            "separate them: the classifier's bias toward new classes decides."
        )
        return True
    why_not = {
        "a": "More samples would give a better Fisher, but the same failure: with the task "
        "identity given, EWC already works with this Fisher.",
        "c": "Here the Fisher of every task is kept (summed), and task-incremental accuracy "
        "shows the old tasks' knowledge is still there.",
    }
    print(
        f"Not quite ({answer!r}). {why_not.get(str(answer).strip().lower(), 'Choose a, b or c.')}"
    )
    return False
