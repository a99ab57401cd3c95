"""The command line: ``python -m cl_teach run|memory|plasticity|reproduce|sweep|download ...``.

The options of ``run`` are the fields of :class:`cl_teach.config.RunConfig`, so every
setting a notebook widget changes can be given here too.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import types
import typing

from .config import RunConfig
from .data import DATASETS, DatasetUnavailableError


def _add_config_options(parser: argparse.ArgumentParser, config_cls, grid: bool = False) -> None:
    """One option per dataclass field: ``lr`` -> ``--lr``; a bool field that defaults to
    True gets the off-switch named in its metadata (``--no-freeze``). An option that may be
    empty takes ``none``. Only the options given appear in the parsed namespace, so they
    override a preset and the rest keep the preset's (or the config's) values. With
    ``grid`` (a sweep), an option of one value takes comma-separated values (a list)."""
    hints = typing.get_type_hints(config_cls)
    for f in dataclasses.fields(config_cls):
        kind, meta = hints[f.name], dict(f.metadata)
        flag = meta.pop("flag", "--" + f.name.replace("_", "-"))
        common = {"dest": f.name, "default": argparse.SUPPRESS}
        if kind is bool:
            action = "store_false" if f.default else "store_true"
            parser.add_argument(flag, action=action, help=meta["help"], **common)
            if "on_flag" in meta:  # the explicit default, e.g. --train-base
                parser.add_argument(
                    meta["on_flag"], action="store_true", help="the default", **common
                )
            continue
        optional = typing.get_origin(kind) in (typing.Union, types.UnionType)  # X | None
        if optional:
            kind = next(a for a in typing.get_args(kind) if a is not type(None))
        nargs = "*" if typing.get_origin(kind) is tuple else None
        item = typing.get_args(kind)[0] if nargs else kind
        parse = _or_none(item) if optional else item
        action = "store"
        if grid:  # a list is an axis of the grid; a tuple option's value is a tuple
            parse, action = (parse, _Tuple) if nargs else (_values(parse), "store")
        parser.add_argument(
            flag, type=parse, nargs=nargs, action=action, help=meta["help"], **common
        )


def _or_none(kind):
    def parse(text: str):
        return None if text.lower() == "none" else kind(text)

    parse.__name__ = kind.__name__
    return parse


class _Tuple(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, tuple(values))


def _values(parse):
    def values(text: str) -> list:
        return [parse(v) for v in text.split(",")]

    values.__name__ = parse.__name__
    return values


def _config_from(args: argparse.Namespace, kind: str):
    """The config of ``args.preset`` (or the defaults) with the options given applied."""
    from .presets import config

    return config(getattr(args, "preset", None), kind, explicit=True, **_given(args, kind))


def _given(args: argparse.Namespace, kind: str) -> dict:
    from .config import RunConfig
    from .plasticity import PlasticityConfig

    cls = {"run": RunConfig, "plasticity": PlasticityConfig}[kind]
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in vars(args).items() if k in names}


def _emit(payload: dict, target: str | None) -> None:
    if target == "-":
        json.dump(payload, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    elif target:
        with open(target, "w") as f:
            json.dump(payload, f, indent=1, allow_nan=False)


SEEDS_HELP = (
    "run several seeds side by side (N: seeds 0..N-1; A-B: seeds A..B, e.g. 5-9; or 0,3,7) "
    "and report each and their mean and spread"
)
HEADLINE = ("final_accuracy", "average_incremental_accuracy", "forgetting", "backward_transfer")


def _seeds(args, cfg) -> list[int]:
    """``--seeds``: a count (5: seeds 0..4), a range (5-9) or a list (0,3,7); without it,
    ``--seed``."""
    from .lessons import seed_list

    if args.seeds is None:
        return [cfg.seed]
    try:
        return seed_list(args.seeds)
    except ValueError as err:
        raise ValueError(f"--{err}") from None


def over_seeds(per_seed: list[dict], names) -> dict:
    """The JSON of several seeds: each seed's result, and mean, std and 95% interval of
    the headline numbers."""
    from .metrics import seed_summary

    stats = {n: seed_summary([r[n] for r in per_seed]) for n in names}
    return {
        "seeds": [r["config"]["seed"] for r in per_seed],
        "per_seed": per_seed,
        **{k: {n: stats[n][k] for n in names} for k in ("mean", "std", "ci95")},
    }


def _run(args) -> None:
    from .experiment import run_seeds

    cfg = _config_from(args, "run")
    results = run_seeds(
        cfg, _seeds(args, cfg), use_cache=not args.no_cache, progress=not args.quiet
    )
    if args.seeds is None:
        _emit(results[0].to_json(), args.json)
    else:
        _emit(
            {"config": results[0].config, **over_seeds([r.to_json() for r in results], HEADLINE)},
            args.json,
        )
    if args.json == "-":
        return
    r = results[0]
    print(
        f"{cfg.method} on {cfg.dataset} {cfg.scenario} ({cfg.eval}-incremental evaluation), "
        f"parameters {r.num_parameters:,}, memory {r.memory_bytes}"
    )
    for r in results:
        print(
            f"  seed {r.seed}{' [cached]' if r.cached else ''}: accuracy after each task "
            f"{' '.join(f'{a:.3f}' for a in r.task_accuracy)}; final {r.final_accuracy:.3f}, "
            f"average incremental {r.average_incremental_accuracy:.3f}, "
            f"forgetting {r.forgetting:.3f}"
        )
    if len(results) > 1:
        summary = over_seeds([r.to_json() for r in results], HEADLINE)
        print(
            "  over seeds: "
            + ", ".join(
                f"{n.replace('_', ' ')} {summary['mean'][n]:.3f} +- {summary['std'][n]:.3f}"
                for n in HEADLINE[:3]
            )
            + " (mean +- std)"
        )


def _memory(args) -> None:
    from .equal_memory import MemoryConfig, memory_table

    names = {f.name for f in dataclasses.fields(MemoryConfig)}
    t = memory_table(MemoryConfig(**{k: v for k, v in vars(args).items() if k in names}))
    _emit(t, args.json)
    if args.json != "-":
        print(
            f"{t['backbone']} on {t['dataset']} {t['scenario']} ({t['tasks']} tasks), backbones "
            f"only as in MEMO; a parameter is 4 bytes, an exemplar {t['image_bytes']} bytes\n"
            f"  one backbone {t['backbone_parameters']:,} parameters = "
            f"{t['exemplars_per_model']:,} exemplars\n"
            f"  split after {t['split']} blocks: generalized {t['generalized_parameters']:,}, "
            f"specialized {t['specialized_parameters']:,}\n"
            f"  after the last task: DER {t['der_parameters']:,}, MEMO {t['memo_parameters']:,}"
            f" parameters\n"
            f"  at DER's memory with {t['budget']:,} exemplars ({t['der_total_bytes']:,} bytes): "
            f"MEMO {t['memo_exemplars']:,} exemplars, replay {t['replay_exemplars']:,}"
        )


def _plasticity(args) -> None:
    from .plasticity import run_plasticity_seeds
    from .reproduce import HEADLINE

    headline = HEADLINE["plasticity"]

    cfg = _config_from(args, "plasticity")
    results = run_plasticity_seeds(
        cfg, _seeds(args, cfg), use_cache=not args.no_cache, progress=not args.quiet
    )
    per_seed = [{k: v for k, v in r.items() if k != "cached"} for r in results]
    if args.seeds is None:
        _emit(per_seed[0], args.json)
    else:
        _emit(
            {"config": per_seed[0]["config"], **over_seeds(per_seed, headline)},
            args.json,
        )
    if args.json == "-":
        return
    print(f"{cfg.method} on {cfg.setting} {cfg.dataset}, {results[0]['tasks']} tasks")
    for r in results:
        acc, dormant = r["new_task_accuracy"], r["dormant_fraction"]
        print(
            f"  seed {r['seed']}{' [cached]' if r['cached'] else ''}: new-task accuracy first "
            f"{acc[0]:.3f}, last fifth {r['last_fifth_accuracy']:.3f}; dormant units first "
            f"{dormant[0]:.3f}, final {dormant[-1]:.3f}; units replaced {r['units_replaced']}; "
            f"{r['seconds']:.1f} s"
        )
    if len(results) > 1:
        summary = over_seeds(per_seed, headline)
        print(
            "  over seeds: "
            + ", ".join(
                f"{n.replace('_', ' ')} {summary['mean'][n]:.3f} +- {summary['std'][n]:.3f}"
                for n in headline
            )
            + " (mean +- std)"
        )


def _presets(args) -> None:
    from .presets import load, names

    listing = [load(name) for name in names()]
    if args.json:
        _emit({p["name"]: p for p in listing}, args.json)
        return
    for p in listing:
        groups = f", groups {', '.join(p['groups'])}" if p.get("groups") else ""
        print(f"{p['name']}  ({p['kind']}, v{p['version']}{groups})\n  source: {p['source']}\n"
              f"  on a GPU: {p['estimate']}")  # fmt: skip


def _reproduce(args) -> None:
    from pathlib import Path

    from .reproduce import reproduce, runs

    overrides = {"epochs": args.epochs, "train_per_class": args.train_per_class,
                 "device": args.device, "scenario": args.scenario, "tasks": args.tasks}  # fmt: skip
    overrides = {k: v for k, v in overrides.items() if v is not None}
    seeds = _seeds(args, None)
    if _dispatch(args, runs(args.group, seeds, overrides)):
        root = Path(args.results) if args.results else None
        print(reproduce(args.group, seeds, overrides, root))


def _sweep(args) -> None:
    from .executors import Run
    from .presets import config
    from .reproduce import HEADLINE
    from .sweep import label, points, table, varied

    given, kind = _given(args, args.kind), args.kind
    names = varied(given)
    settings = {label(p, names): (p, config(args.preset, kind, explicit=True, **p))
                for p in points(given)}  # fmt: skip
    seeds = {name: _seeds(args, cfg) for name, (_, cfg) in settings.items()}
    runs = [Run(kind, cfg.replace(seed=s), name)
            for name, (_, cfg) in settings.items() for s in seeds[name]]  # fmt: skip
    if not _dispatch(args, runs):
        return
    rows = []
    for name, (point, cfg) in settings.items():
        per_seed = _results(kind, cfg, seeds[name], progress=args.executor == "inline")
        summary = over_seeds(per_seed, HEADLINE[kind])
        summary["per_seed"] = {n: [r[n] for r in per_seed] for n in HEADLINE[kind]}
        rows.append({"settings": {k: point[k] for k in names}, "config": cfg.to_dict(), **summary})
    _emit({"kind": kind, "varied": names, "points": rows}, args.json)
    if args.json != "-":
        print(table(rows, names, HEADLINE[kind]), end="")


def _results(kind: str, cfg, seeds: list[int], progress) -> list[dict]:
    """Each seed's result as JSON (read from the cache when there)."""
    if kind == "run":
        from .experiment import run_seeds

        return [r.to_json() for r in run_seeds(cfg, seeds, progress=progress)]
    from .plasticity import run_plasticity_seeds

    results = run_plasticity_seeds(cfg, seeds, progress=progress)
    return [{k: v for k, v in r.items() if k != "cached"} for r in results]


def _dispatch(args, runs) -> bool:
    """``--status``, ``--collect``, ``--no-wait`` and the executors of a multi-run command.
    False when the command ends here (states shown, jobs submitted without waiting); else
    every run is done (``inline``: the command runs them itself) and it goes on."""
    from .executors import Executor

    executor = Executor(args.executor, args.slurm_folder, args.slurm_partition,
                        args.slurm_gpus_per_task, args.slurm_time,
                        args.slurm_array_parallelism, args.slurm_account)  # fmt: skip
    if args.status:
        print(executor.status(runs))
        return False
    if args.collect:
        executor.require_done(runs)
    elif args.no_wait:
        jobs = executor.submit(runs)
        ids = sorted({job.job_id.split("_")[0] for _, job in jobs})
        print(f"submitted {len(jobs)} of {len(runs)} runs (Slurm job {', '.join(ids) or '-'}; "
              f"the others are cached or the same run); logs in {executor.logs}\n"
              "the same command with --status shows each run's state, with --collect it "
              "writes the results when all are done")  # fmt: skip
        return False
    elif args.executor != "inline":
        executor.run(runs)
    return True


def _add_executor_options(p: argparse.ArgumentParser) -> None:
    from .executors import EXECUTORS

    p.add_argument("--executor", choices=EXECUTORS, default="inline",
                   help="inline: this process (default); local: one process per GPU; "
                        "slurm: a Slurm job array through submitit")  # fmt: skip
    p.add_argument("--slurm-partition", help="Slurm partition")
    p.add_argument("--slurm-gpus-per-task", type=int, default=0, help="GPUs of each run")
    p.add_argument("--slurm-time", type=int, default=360,
                   help="minutes per run (default 360); a run out of time is requeued and "
                        "resumes from its last finished task")  # fmt: skip
    p.add_argument("--slurm-array-parallelism", type=int, default=256,
                   help="runs of the array at once (default 256)")  # fmt: skip
    p.add_argument("--slurm-account", help="Slurm account to charge")
    p.add_argument("--slurm-folder", help="folder for the jobs' logs, on a shared filesystem "
                   "(default: <cache>/jobs)")  # fmt: skip
    p.add_argument("--no-wait", action="store_true", help="submit the jobs and return")
    p.add_argument("--status", action="store_true", help="show each run's state and end")
    p.add_argument("--collect", action="store_true",
                   help="write the results from the cache once every run is done")  # fmt: skip


def _download(args) -> None:
    from .data import data_root, load_dataset

    for name in args.datasets:
        data = load_dataset(name, download=True)
        print(f"{name}: {len(data.train)} train / {len(data.test)} test images in {data_root()}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cl_teach", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="train a method through a class-incremental stream")
    p.add_argument("--preset", help="start from a paper's setting (python -m cl_teach presets)")
    _add_config_options(p, RunConfig)
    p.add_argument("--seeds", metavar="N|A-B", help=SEEDS_HELP)
    p.add_argument("--json", metavar="PATH|-", help="write the result as JSON (- = stdout)")
    p.add_argument("--no-cache", action="store_true", help="recompute even if cached")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)

    from .equal_memory import MemoryConfig

    p = sub.add_parser("memory", help="parameters and exemplars at equal memory (DER, MEMO)")
    _add_config_options(p, MemoryConfig)
    p.add_argument("--json", metavar="PATH|-", help="write the table as JSON (- = stdout)")
    p.set_defaults(func=_memory)

    from .plasticity import PlasticityConfig

    p = sub.add_parser("plasticity", help="loss of plasticity: a long sequence of new tasks")
    p.add_argument("--preset", help="start from a paper's setting (python -m cl_teach presets)")
    _add_config_options(p, PlasticityConfig)
    p.add_argument("--seeds", metavar="N|A-B", help=SEEDS_HELP)
    p.add_argument("--json", metavar="PATH|-", help="write the result as JSON (- = stdout)")
    p.add_argument("--no-cache", action="store_true", help="recompute even if cached")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_plasticity)

    p = sub.add_parser("presets", help="the papers' settings: name, source, time on a GPU")
    p.add_argument("--json", metavar="PATH|-", help="write them as JSON (- = stdout)")
    p.set_defaults(func=_presets)

    p = sub.add_parser("reproduce", help="run a group of presets beside the papers' numbers")
    p.add_argument("group", help="e.g. pycil-b0inc10 (python -m cl_teach presets lists groups)")
    p.add_argument("--seeds", default="1", metavar="N|A-B", help="seeds 0..N-1 or A..B (default 1)")
    p.add_argument("--epochs", type=int, help="override every task's epochs (a short trial)")
    p.add_argument("--train-per-class", type=int, help="keep this many training images per class")
    p.add_argument("--scenario", help="override the scenario (a short trial, e.g. B0Inc50)")
    p.add_argument("--tasks", type=int, help="override a plasticity group's number of tasks")
    p.add_argument("--device", help="auto|cpu|cuda")
    p.add_argument("--results", help="folder for the results (default results/)")
    _add_executor_options(p)
    p.set_defaults(func=_reproduce)

    p = sub.add_parser("sweep", help="a grid of settings (comma-separated values) over seeds")
    kinds = p.add_subparsers(dest="kind", required=True)
    for kind, cls in (("run", RunConfig), ("plasticity", PlasticityConfig)):
        q = kinds.add_parser(kind, help=f"a grid of `{kind}` settings, e.g. --budget 20,200")
        q.add_argument("--preset", help="start from a paper's setting")
        _add_config_options(q, cls, grid=True)
        q.add_argument("--seeds", metavar="N|A-B", help=SEEDS_HELP)
        q.add_argument("--json", metavar="PATH|-", help="write the table as JSON (- = stdout)")
        _add_executor_options(q)
        q.set_defaults(func=_sweep)

    p = sub.add_parser("download", help="download datasets into the data folder")
    p.add_argument("datasets", nargs="+", choices=[d for d in DATASETS if d != "digits"])
    p.set_defaults(func=_download)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (ValueError, DatasetUnavailableError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0
