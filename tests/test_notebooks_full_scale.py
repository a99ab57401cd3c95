"""Every notebook switched to its paper's CIFAR-100 preset, end to end on the CPU: papermill
injects ``PRESET``, one epoch, one training image per class and one seed, and the notebook
runs on CIFAR-100 files in torchvision's on-disk format that the tests write (the
``cifar100`` fixture of tests/conftest.py).

A preset's own ten-task stream costs 10 to 16 minutes per notebook on a laptop CPU even so
(ResNet-32s growing to ten backbones), so notebook 01 runs it as it is and the others run
the preset with two tasks of 50 classes (``SCENARIO = "B0Inc50"``): the same code path,
a fifth of the tasks. Notebooks 05 and 06 run Dohare et al.'s ResNet-18 stream for its first
two tasks (``TASKS = 2``)."""

import pytest

from cl_teach.presets import load

papermill = pytest.importorskip("papermill")

#: each notebook and the preset its parameters cell names for the paper's setting
PRESETS = {
    "00_start_here": "pycil-finetune-b0inc10",
    "01_catastrophic_forgetting": "pycil-finetune-b0inc10",
    "02a_regularization": "pycil-ewc-b0inc10",
    "02b_rehearsal": "pycil-replay-b0inc10",
    "03_der": "pycil-der-b0inc10",
    "04_memo": "pycil-memo-b0inc10",
    "05_loss_of_plasticity": "dohare-cifar100-bp",
    "06_continual_backprop": "dohare-cifar100-cbp",
    "07_summary": "pycil-replay-b0inc10",
}
#: the shorter stream each notebook runs (none: the preset's own)
SHORTER = {
    "02a_regularization": {"SCENARIO": "B0Inc50"},
    "02b_rehearsal": {"SCENARIO": "B0Inc50"},
    "03_der": {"SCENARIO": "B0Inc50"},
    "04_memo": {"SCENARIO": "B0Inc50"},
    "05_loss_of_plasticity": {"TASKS": 2},
    "06_continual_backprop": {"TASKS": 2},
    "07_summary": {"SCENARIO": "B0Inc50"},
}


@pytest.mark.fullscale
@pytest.mark.parametrize("notebook", sorted(PRESETS))
def test_notebook_runs_on_its_cifar100_preset(
    notebook, cifar100, cifar100_cache, tmp_path, monkeypatch
):
    preset = PRESETS[notebook]
    assert load(preset)["config"]["dataset"] == "cifar100"
    monkeypatch.setenv("CL_TEACH_DATA", str(cifar100))
    monkeypatch.setenv("CL_TEACH_CACHE", str(cifar100_cache))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    source = f"notebooks/{notebook}.ipynb"
    params = {"PRESET": preset, "EPOCHS": 1, "TRAIN_PER_CLASS": 1, "SEEDS": 1, "DEVICE": "cpu"}
    params.update(SHORTER.get(notebook, {}))
    out = papermill.execute_notebook(
        source, str(tmp_path / "out.ipynb"), parameters=params, cwd="notebooks",
        kernel_name="python3", progress_bar=False,
    )  # fmt: skip
    printed = "".join(
        o.get("text", "") for c in out.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "cifar100" in printed  # the notebook says which setting it runs
