"""Resumable runs: a run stopped after task 2 and run again resumes from its checkpoint and
ends with exactly the numbers of a run never stopped; the checkpoint goes once the results
are cached."""

import pytest
from every_method import PLASTICITY_RUNS, RUNS

from cl_teach import checkpoint
from cl_teach.config import RunConfig
from cl_teach.experiment import run_seeds
from cl_teach.methods import METHODS
from cl_teach.plasticity import PlasticityConfig, run_plasticity_seeds
from cl_teach.plasticity.config import METHODS as PLASTICITY_METHODS

# enough data for several batches per epoch, so the batch order (a generator's state) matters
RUN = RunConfig(epochs=2, budget=40, train_per_class=20, batch_size=16)  # digits, 5 tasks
PLASTICITY = PlasticityConfig(
    tasks=4, epochs=1, train_per_class=20, batch_size=16, replacement_rate=0.05, maturity=5
)
SEEDS = [0, 1]


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CL_TEACH_CACHE", str(tmp_path))
    return tmp_path


def stop_after_task_2(monkeypatch):
    """Make the next run raise KeyboardInterrupt (as Ctrl-C) right after its checkpoint of
    task 2."""
    save = checkpoint.save

    def save_then_stop(where, state):
        save(where, state)
        if state["done"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "save", save_then_stop)


def interrupted_then_resumed(run, cfg, monkeypatch, own_cache):
    with monkeypatch.context() as m:
        stop_after_task_2(m)
        with pytest.raises(KeyboardInterrupt):
            run(cfg, SEEDS, progress=False)
    (saved,) = (own_cache / "checkpoints").iterdir()
    assert checkpoint.load(saved)["done"] == 2
    resumed = run(cfg, SEEDS, progress=False)
    assert not list((own_cache / "checkpoints").iterdir())  # removed once cached
    return resumed


def same(a: dict, b: dict) -> bool:
    ignore = {"seconds", "cached"}
    return {k: v for k, v in a.items() if k not in ignore} == {
        k: v for k, v in b.items() if k not in ignore
    }


def test_the_lists_name_every_method():
    assert {method for method, _ in RUNS} == set(METHODS)
    assert {method for method, _ in PLASTICITY_RUNS} == set(PLASTICITY_METHODS)


@pytest.mark.parametrize("method,change", RUNS)
def test_a_resumed_run_equals_an_uninterrupted_one(method, change, monkeypatch, own_cache):
    cfg = RUN.replace(method=method, **change)
    whole = run_seeds(cfg, SEEDS, use_cache=False, progress=False)
    resumed = interrupted_then_resumed(run_seeds, cfg, monkeypatch, own_cache)
    for a, b in zip(whole, resumed, strict=True):
        assert same(a.to_json(), b.to_json())


@pytest.mark.parametrize("method,change", PLASTICITY_RUNS)
def test_a_resumed_plasticity_run_equals_an_uninterrupted_one(
    method, change, monkeypatch, own_cache
):
    cfg = PLASTICITY.replace(method=method, **change)
    whole = run_plasticity_seeds(cfg, SEEDS, use_cache=False)
    resumed = interrupted_then_resumed(run_plasticity_seeds, cfg, monkeypatch, own_cache)
    for a, b in zip(whole, resumed, strict=True):
        assert same(a, b)
    if method == "cbp":
        assert whole[0]["units_replaced"] > 0  # the utilities and ages mattered


def test_the_test_fails_when_a_generator_is_not_restored(monkeypatch, own_cache):
    """Mutation: a checkpoint without the batch-order generators (they start afresh on
    resume) gives other numbers, so the tests above would catch a state left out."""
    load = checkpoint.load

    def forget_batch_order(where):
        state = load(where)
        if state is not None:
            state["method"].random._streams.pop("batches")
        return state

    cfg = RUN.replace(method="replay")
    whole = run_seeds(cfg, SEEDS, use_cache=False, progress=False)
    monkeypatch.setattr(checkpoint, "load", forget_batch_order)
    resumed = interrupted_then_resumed(run_seeds, cfg, monkeypatch, own_cache)
    assert not same(whole[0].to_json(), resumed[0].to_json())


def test_no_checkpoint_without_the_cache(monkeypatch, own_cache):
    stop_after_task_2(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        run_seeds(RUN, SEEDS, use_cache=False, progress=False)
    assert not (own_cache / "checkpoints").exists()
