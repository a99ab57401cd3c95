"""Plasticity runs over seeds: a seed's numbers do not depend on the seeds beside it, and
each seed is cached on its own."""

import pytest

from cl_teach.plasticity import PlasticityConfig, run_plasticity, run_plasticity_seeds

SMALL = PlasticityConfig(tasks=3, epochs=1, device="cpu")


@pytest.mark.parametrize(
    "options",
    [
        {"method": "bp"},
        {"method": "cbp", "replacement_rate": 0.02, "maturity": 5},
        {"method": "cbp", "backbone": "cnn", "width": 4, "replacement_rate": 0.05, "maturity": 5},
        {"method": "snp"},
        {
            "method": "cbp",
            "backbone": "resnet18",
            "tasks": 2,
            "epochs": 3,
            "train_per_class": 5,
            "probe_size": 20,
            "replacement_rate": 0.2,
            "maturity": 1,
        },
    ],
    ids=["bp", "cbp", "cbp-cnn", "snp", "cbp-resnet18"],
)
def test_a_seed_gives_the_same_result_alone_and_beside_others(options):
    cfg = SMALL.replace(**options)
    beside = run_plasticity_seeds(cfg, [0, 1, 2], use_cache=False)
    alone = run_plasticity(cfg.replace(seed=1), use_cache=False)
    assert beside[1]["seed"] == alone["seed"] == 1
    for key in alone:
        if key not in ("seconds", "cached"):
            assert beside[1][key] == alone[key], key
    assert beside[0]["new_task_accuracy"] != beside[1]["new_task_accuracy"]  # seeds differ
    if options["method"] == "cbp":
        assert alone["units_replaced"] > 0


def test_each_seed_is_cached_on_its_own():
    first = run_plasticity_seeds(SMALL, [0, 1])
    more = run_plasticity_seeds(SMALL, [1, 2, 0])
    assert [r["seed"] for r in more] == [1, 2, 0]
    assert [r["cached"] for r in more] == [True, False, True]
    assert more[0]["dormant_mask"] == first[1]["dormant_mask"]
    with pytest.raises(ValueError, match="seed"):
        run_plasticity_seeds(SMALL, [])


def test_a_run_is_shared_by_configs_that_differ_in_other_methods_settings():
    first = run_plasticity_seeds(SMALL.replace(replacement_rate=0.05, noise_std=0.1), [0])[0]
    again = run_plasticity_seeds(SMALL.replace(maturity=7, l2_weight_decay=0.5), [0])[0]
    assert again["cached"] and again["new_task_accuracy"] == first["new_task_accuracy"]
    assert again["config"]["maturity"] == 7 and again["config"]["l2_weight_decay"] == 0.5
    l2 = SMALL.replace(method="l2")
    run_plasticity_seeds(l2, [0])
    assert not run_plasticity_seeds(l2.replace(l2_weight_decay=0.5), [0])[0]["cached"]
    assert run_plasticity_seeds(l2.replace(replacement_rate=0.5), [0])[0]["cached"]
