"""Checkers for notebook 04 (MEMO: a model or 603 exemplars)."""

from __future__ import annotations

from ..equal_memory import MemoryConfig, memory_table
from . import not_answered

TIE = 0.01  # final accuracies closer than this are a tie (about 4 digits test images)


def check_exemplars_per_model(answer) -> bool:
    """Exercise 1: how many CIFAR exemplars cost as much memory as one ResNet-32?"""
    if not_answered(answer):
        return False
    t = memory_table(MemoryConfig())
    if int(answer) == t["exemplars_per_model"]:
        print(
            f"Correct: {t['backbone_parameters']:,} x 4 bytes / 3072 bytes = "
            f"{t['exemplars_per_model_exact']:.2f}, so {t['exemplars_per_model']} whole images: "
            "the paper's title."
        )
        return True
    print(
        f"Not quite ({answer}). A float32 parameter is 4 bytes; a CIFAR image is 3 x 32 x 32 "
        "uint8 values. Divide the model's bytes by one image's bytes and keep whole images."
    )
    return False


def check_memo_exemplars(answer) -> bool:
    """Exercise 2: MEMO's exemplars at DER's total memory for CIFAR-100 B0Inc20, ResNet-32,
    DER budget 2000."""
    if not_answered(answer):
        return False
    t = memory_table(MemoryConfig(scenario="B0Inc20"))
    if int(answer) == t["memo_exemplars"]:
        print(
            f"Correct: DER keeps {t['tasks']} backbones ({t['der_parameters']:,} parameters), MEMO "
            f"{t['memo_parameters']:,}; the difference buys {t['memo_exemplars'] - 2000:,} "
            f"exemplars, so {t['memo_exemplars']:,} in all."
        )
        return True
    print(
        f"Not quite ({answer}). B0Inc20 has {t['tasks']} tasks. DER: tasks x 463,504; MEMO: "
        "112,016 + tasks x 351,488. Convert the difference to bytes (x 4), divide by 3072, "
        "keep whole images and add DER's 2000."
    )
    return False


def check_rule(answer, table: dict) -> bool:
    """Exercise 3: with a pretrained base, was it better on these runs to 'freeze' the
    generalized blocks, to 'train' them, or was it a 'tie'?"""
    if not_answered(answer):
        return False
    delta = table[(True, True)].final_accuracy - table[(True, False)].final_accuracy
    truth = "tie" if abs(delta) < TIE else "freeze" if delta > 0 else "train"
    if str(answer).strip().lower() == truth:
        print(
            f"Correct: freezing minus training = {delta:+.3f} on these runs ('tie' below "
            f"{TIE}). One seed on a small dataset: run other seeds before trusting any rule."
        )
        return True
    print(
        f"Not quite. Read the 'pretrained' row of the table: freeze minus train is {delta:+.3f}; "
        f"a gap below {TIE} counts as a 'tie'."
    )
    return False
