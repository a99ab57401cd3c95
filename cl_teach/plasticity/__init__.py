"""Loss of plasticity (Dohare et al., Nature 2024): diagnostics, experiments, remedies.

Modules, each building on those before it: ``config`` (the run's settings), ``tasks``
(the task sequences), ``network``, ``sites`` (where units are read), ``diagnostics``,
``backprop`` (the plain learner and the head reset), ``shrink_perturb`` (L2 and Shrink &
Perturb), ``continual_backprop``, ``experiment`` (the runs), ``plots``; and
``regression``, the slowly-changing regression problem with its own lean learners.
"""

from .config import PlasticityConfig
from .diagnostics import diagnose, dormant_units, effective_rank, stable_rank, weight_magnitude
from .experiment import last_fifth, run_plasticity, run_plasticity_grid, run_plasticity_seeds

__all__ = [
    "PlasticityConfig",
    "diagnose",
    "dormant_units",
    "effective_rank",
    "last_fifth",
    "run_plasticity",
    "run_plasticity_grid",
    "run_plasticity_seeds",
    "stable_rank",
    "weight_magnitude",
]
