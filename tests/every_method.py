"""Every method of the package, each with the settings that take a code path of their own.
The tests that must hold for each method (a seed alone or beside others, a resumed run)
share these lists; ``test_the_lists_name_every_method`` fails when a method is added to the
package and not here."""

RUNS = [
    ("finetune", {}),
    ("joint", {}),
    ("replay", {"selection": "herding"}),
    ("replay", {"selection": "random"}),
    ("replay", {"selection": "reservoir"}),
    ("ewc", {}),
    ("dark_er", {}),
    ("dark_er_pp", {}),
    ("der", {}),
    ("memo", {"train_base": False}),
]

PLASTICITY_RUNS = [
    ("bp", {}),
    ("retrain", {}),
    ("head_reset", {}),
    ("l2", {}),
    ("snp", {}),
    ("snp", {"snp_form": "boundary"}),
    ("cbp", {}),
    ("cbp", {"setting": "incremental", "optimizer": "adam", "lr": 1e-3}),
]
