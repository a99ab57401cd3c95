"""Test-wide settings: a non-interactive plot backend, one CPU thread, a throw-away result
cache shared by pytest-xdist's workers (unless ``CL_TEACH_CACHE`` names one: CI shares its
cache with the browser tests), and the seed block of the claims tests (``--claim-seeds
5-9``; default 0-4, the notebooks' seeds)."""

import os
import tempfile
from pathlib import Path

import matplotlib
import pytest
import torch
from cifar_files import write_cifar

matplotlib.use("Agg")
# One CPU thread, as every run of the package uses (cl_teach.experiment.one_thread_on_cpu):
# tests that drive a network by hand would otherwise contend for the cores.
torch.set_num_threads(1)
# One throw-away cache for the whole run, shared by pytest-xdist's workers (they see the
# run's id in PYTEST_XDIST_TESTRUNUID).
_RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID")
os.environ.setdefault(
    "CL_TEACH_CACHE",
    os.path.join(tempfile.gettempdir(), f"cl_teach-cache-{_RUN}")
    if _RUN
    else tempfile.mkdtemp(prefix="cl_teach-cache-"),
)


@pytest.fixture(scope="session")
def cifar100(tmp_path_factory):
    """A data folder with CIFAR-100 in torchvision's on-disk format: two random training
    images and one test image per class."""
    root = tmp_path_factory.mktemp("cifar100")
    write_cifar(root, "cifar100", train_per_class=2, test_per_class=1)
    return root


@pytest.fixture(scope="session")
def cifar100_cache(tmp_path_factory):
    """One result cache for the runs on those CIFAR-100 files (the same files in every
    pytest-xdist worker: ``write_cifar`` is seeded): a notebook on its preset and the CLI on
    the same preset and overrides train once. Never the project's cache: the files are
    random, not CIFAR-100."""
    if _RUN:
        return Path(tempfile.gettempdir()) / f"cl_teach-cifar100-cache-{_RUN}"
    return tmp_path_factory.mktemp("cifar100-cache")


def pytest_addoption(parser):
    parser.addoption(
        "--claim-seeds",
        default="0-4",
        help="the seeds the claims tests (tests/claims) run: a range like 5-9 (default 0-4)",
    )


@pytest.fixture(scope="session")
def claim_seeds(request) -> list[int]:
    """The seed block of the claims tests: every claim must hold on any block of 5 seeds."""
    from cl_teach.lessons import seed_list

    return seed_list(request.config.getoption("--claim-seeds"))
