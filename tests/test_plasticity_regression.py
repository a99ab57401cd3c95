"""The slowly-changing regression problem: its target and inputs, each lane's numbers alone
and beside others, the methods' rules (continual backprop's utility and replacement, Shrink
& Perturb's noise, the resets), the cache, bad input."""

import numpy as np
import pytest

from cl_teach.plasticity import regression
from cl_teach.plasticity.regression import Lanes, RegressionConfig, run_regression_grid

SHORT = RegressionConfig(steps=2_000, phase=500)


def test_the_problem_slow_bits_held_for_a_phase_fast_bits_redrawn():
    cfg = SHORT
    g = regression.generator(0, "data")
    target = regression.target_network(cfg, regression.generator(0, "target"))
    x, y = regression.phase_data(cfg, target, g)
    assert x.shape == (cfg.phase, cfg.inputs + 1) and y.shape == (cfg.phase,)
    assert (x[:, : cfg.slow_bits] == x[0, : cfg.slow_bits]).all()  # held
    assert len({tuple(r) for r in x[:, cfg.slow_bits : cfg.inputs]}) > 20  # redrawn
    assert (x[:, -1] == 1).all() and set(np.unique(x[:, :-1])) <= {0.0, 1.0}
    w, b, threshold, v, c = target
    assert set(np.unique(w)) == {-1.0, 1.0} and set(np.unique(v)) <= {-1.0, 1.0}
    features = (x[:, :-1] @ w.T + b > threshold).astype(float)
    np.testing.assert_array_equal(y, features @ v + c)
    x2, _ = regression.phase_data(cfg, target, g)
    assert not (x2[0, : cfg.slow_bits] == x[0, : cfg.slow_bits]).all()  # the next phase


def test_a_lane_gives_the_same_numbers_alone_and_beside_others():
    alone = run_regression_grid({"cbp": SHORT.replace(method="cbp")}, [3], use_cache=False)
    configs = {m: SHORT.replace(method=m) for m in regression.METHODS}
    beside = run_regression_grid(configs, [1, 3], use_cache=False)
    assert alone["cbp"][0]["phase_error"] == beside["cbp"][1]["phase_error"]
    assert alone["cbp"][0]["units_replaced"] == beside["cbp"][1]["units_replaced"] > 0


def test_the_methods_rules():
    runs = run_regression_grid(
        {
            "bp": SHORT,
            "cbp off": SHORT.replace(method="cbp", replacement_rate=0.0),
            "l2": SHORT.replace(method="l2"),
            "snp quiet": SHORT.replace(method="snp", noise_std=0.0),
            "snp": SHORT.replace(method="snp"),
            "head_reset": SHORT.replace(method="head_reset"),
            "retrain": SHORT.replace(method="retrain"),
        },
        [0],
        use_cache=False,
    )
    error = {k: r[0]["phase_error"] for k, r in runs.items()}
    assert error["cbp off"] == error["bp"]  # rate 0: backprop
    assert error["snp quiet"] == error["l2"]  # no noise: L2
    assert error["snp"] != error["l2"] and error["l2"] != error["bp"]
    for reset in ("head_reset", "retrain"):  # the same until the first redraw
        assert error[reset][0] == error["bp"][0] and error[reset][1] != error["bp"][1]


def test_continual_backprop_replaces_low_utility_units_without_changing_the_output():
    cfg = SHORT.replace(method="cbp", replacement_rate=0.2, maturity=0)
    lanes = Lanes([cfg, cfg.replace(seed=1)])
    x = np.ones((2, cfg.inputs + 1))
    lanes.w1[:, -1, 0] = -100.0  # unit 0 never fires: zero contribution
    lanes.w1[:, -1, 1:] = 100.0  # the others always do
    h = np.maximum(np.matmul(x[:, None, :], lanes.w1)[:, 0], 0.0)
    before = (h * lanes.w2).sum(1) + lanes.b2
    lanes.update_utility(h)
    assert (lanes.replaced == 1).all()  # 0.2 x 5 mature units: one due
    assert (lanes.age[:, 0] == 0).all() and (lanes.w2[:, 0] == 0).all()  # the silent one went
    h = np.maximum(np.matmul(x[:, None, :], lanes.w1)[:, 0], 0.0)
    np.testing.assert_array_equal((h * lanes.w2).sum(1) + lanes.b2, before)


def test_random_replacement_takes_any_mature_unit():
    cfg = SHORT.replace(method="cbp", replacement="random", maturity=0)
    lanes = Lanes([cfg.replace(seed=s) for s in range(8)])
    lanes.u[:] = np.arange(cfg.hidden)  # unit 0 the lowest
    lanes.age[:] = 5
    chosen = {int(lanes.choose(lane, 1)[0]) for lane in range(8)}
    assert len(chosen) > 1


def test_the_utility_is_continual_backprops():
    """The regression's utility update calls the package's rule."""
    cfg = SHORT.replace(method="cbp", decay=0.9, replacement_rate=0.0)
    lanes = Lanes([cfg])
    lanes.rate[:] = 1e-9  # a continual-backprop lane that replaces nothing here
    lanes.cbp = np.array([0])
    h = np.array([[0.5, 0.0, 2.0, 1.0, 0.0]])
    lanes.u[:] = 0.1
    lanes.update_utility(h)
    np.testing.assert_allclose(lanes.u, 0.9 * 0.1 + 0.1 * h * np.abs(lanes.w2))


def test_results_are_cached_per_config_and_seed(monkeypatch, tmp_path):
    monkeypatch.setenv("CL_TEACH_CACHE", str(tmp_path))
    first = run_regression_grid({"bp": SHORT}, [0, 1])
    again = run_regression_grid({"bp": SHORT, "bp too": SHORT.replace(noise_std=0.5)}, [1, 0])
    assert all(r["cached"] for runs in again.values() for r in runs)  # noise: not bp's setting
    assert again["bp"][1]["phase_error"] == first["bp"][0]["phase_error"]
    assert first["bp"][0]["late_error"] == pytest.approx(
        np.mean(first["bp"][0]["phase_error"][-1:])
    )


@pytest.mark.parametrize(
    "options, message",
    [
        ({"method": "sgd"}, "choose one of"),
        ({"steps": 1_000, "phase": 300}, "whole number of phases"),
        ({"slow_bits": 20}, "between 1 and inputs - 1"),
        ({"replacement": "oldest"}, "utility or random"),
        ({"decay": 1.0}, "decay"),
    ],
)
def test_bad_input_is_a_clear_error(options, message):
    with pytest.raises(ValueError, match=message):
        RegressionConfig(**options)
    with pytest.raises(ValueError, match="share the problem"):
        run_regression_grid({"a": SHORT, "b": SHORT.replace(lr=0.01)}, [0], use_cache=False)
