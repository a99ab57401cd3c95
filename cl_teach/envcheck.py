"""What notebook 00 checks first: versions, the device, the data folder."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

PACKAGES = (
    "torch",
    "torchvision",
    "numpy",
    "scikit-learn",
    "matplotlib",
    "seaborn",
    "ipywidgets",
    "jupyterlab",
    "tqdm",
)


def check_environment() -> dict:
    """Versions of the packages the collection needs, the compute device, the data folder."""
    import torch

    from .data import data_root, load_dataset

    report = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            report[name] = version(name)
        except PackageNotFoundError:
            report[name] = "MISSING: run `python3 tasks.py lab` to install"
    report["device"] = (
        f"cuda ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "cpu"
    )
    report["data folder"] = str(data_root())
    report["digits (offline)"] = f"{len(load_dataset('digits').train)} training images"
    return report
