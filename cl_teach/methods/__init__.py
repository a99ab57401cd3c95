"""One small module per method; ``METHODS`` maps a CLI name to its class."""

from .base import Method
from .der import DER
from .finetune import FineTune
from .joint import Joint

METHODS: dict[str, type[Method]] = {
    "finetune": FineTune,
    "joint": Joint,
    "der": DER,
}


def method_class(name: str) -> type[Method]:
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}")
    return METHODS[name]
