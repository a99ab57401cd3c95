"""One small module per method; ``METHODS`` maps a CLI name to its class."""

from .base import Method
from .dark_er import DarkER, DarkERpp
from .der import DER
from .ewc import EWC
from .finetune import FineTune
from .joint import Joint
from .memo import MEMO
from .replay import Replay

METHODS: dict[str, type[Method]] = {
    "finetune": FineTune,
    "joint": Joint,
    "replay": Replay,
    "ewc": EWC,
    "dark_er": DarkER,
    "dark_er_pp": DarkERpp,
    "der": DER,
    "memo": MEMO,
}


def method_class(name: str) -> type[Method]:
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}")
    return METHODS[name]
