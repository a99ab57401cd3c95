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
    ],
    ids=["bp", "cbp", "cbp-cnn", "snp"],
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
