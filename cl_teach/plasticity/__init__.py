"""Loss of plasticity (Dohare et al., Nature 2024): diagnostics, experiments, remedies."""

from .diagnostics import diagnose, dormant_units, effective_rank, stable_rank, weight_magnitude
from .experiment import PlasticityConfig, last_fifth, run_plasticity

__all__ = [
    "PlasticityConfig",
    "diagnose",
    "dormant_units",
    "effective_rank",
    "last_fifth",
    "run_plasticity",
    "stable_rank",
    "weight_magnitude",
]
