"""cl_teach: the experiments behind the continual-learning teaching notebooks."""

from .config import RunConfig
from .experiment import Result, run

__all__ = ["RunConfig", "Result", "run"]
__version__ = "0.1.0"
