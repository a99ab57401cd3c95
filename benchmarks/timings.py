"""Speed figures for the collection, printed, not asserted (targets from the issues).

    python3 tasks.py bench                 # everything
    python3 tasks.py bench --skip-notebooks
    python3 tasks.py bench --only seeds    # one group: startup, seeds, loop, checkpoints,
                                           # widget, notebooks
    python3 tasks.py bench --notebooks 01_catastrophic_forgetting

Prints: a whole ``python -m cl_teach run`` process on digits against ``python -c "import
torch"`` (target <= 2.0x); the wall time of 5 seeds side by side over 1 seed for each
notebook's offline setting (fine-tuning, replay, DER, MEMO, backprop on the plasticity
stream; target <= 2.0) and of 10 seeds for DER (<= 3.0), with the machine's load; the
shared loop's overhead against a bare PyTorch loop (<= 15 %); the time a run spends writing
its checkpoints at task boundaries; a fresh and a cached answer of notebook 01's panel
(<= 5 s, <= 0.5 s); each notebook's Run-all time from a cold cache with 5 seeds (target
<= 60 s).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
# measure this checkout's package, not another installed one, here and in the notebooks'
# kernels
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
NOTEBOOK_TARGET = 60  # seconds, Run All from a cold cache with 5 seeds


def fresh_cache() -> None:
    os.environ["CL_TEACH_CACHE"] = tempfile.mkdtemp(prefix="cl_teach-bench-")


def notebook_times(names: list[str] | None) -> None:
    import nbformat
    from nbclient import NotebookClient

    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in paths:
        if names and path.stem not in names:
            continue
        fresh_cache()
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(
            nb,
            timeout=900,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
        seconds = time.perf_counter() - start
        target = NOTEBOOK_TARGET
        print(f"run-all {path.stem:38} {seconds:6.1f} s  (target <= {target} s)", flush=True)


def best_of(fn, repeats: int = 3) -> float:
    """The shortest wall time of ``repeats`` calls (the machine's noise only adds)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def load() -> str:
    """The machine's load: other processes share its cores and slow every figure."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def seeds_ratio(repeats: int = 3) -> None:
    """S seeds side by side against 1 seed, uncached, in each notebook's offline setting:
    the median of ``repeats`` wall times (after a warm-up run), 1 and S seeds interleaved so
    that a change in the machine's load hits both; the CPU time of this process beside it,
    which other processes on the machine disturb less."""
    from cl_teach.experiment import run_seeds
    from cl_teach.lessons import der, forgetting, memo, plasticity, rehearsal
    from cl_teach.plasticity import run_plasticity_seeds

    def class_incremental(cfg):
        return lambda seeds: run_seeds(cfg, seeds, use_cache=False, progress=False)

    cases = [  # name, train(seeds), seeds, target
        ("fine-tuning (01)", class_incremental(forgetting.SETTING), 5, 2.0),
        ("replay (02b)", class_incremental(rehearsal.SETTING.replace(method="replay")), 5, 2.0),
        ("DER (03)", class_incremental(der.SETTING), 5, 2.0),
        ("DER (03)", class_incremental(der.SETTING), 10, 3.0),
        ("MEMO (04)", class_incremental(memo.SETTING), 5, 2.0),
        (
            "backprop, plasticity (05)",
            lambda seeds: run_plasticity_seeds(
                plasticity.SETTING.replace(method="bp"), seeds, use_cache=False
            ),
            5,
            2.0,
        ),
    ]
    print(f"seeds: {load()}")
    for name, train, n, target in cases:
        train([0])  # warm-up: first-call costs belong to neither figure
        wall, cpu = {1: [], n: []}, {1: [], n: []}
        for _ in range(repeats):
            for seeds in ([0], list(range(n))):
                start, start_cpu = time.perf_counter(), time.process_time()
                train(seeds)
                wall[len(seeds)].append(time.perf_counter() - start)
                cpu[len(seeds)].append(time.process_time() - start_cpu)
        one, many = statistics.median(wall[1]), statistics.median(wall[n])
        ratio_cpu = statistics.median(cpu[n]) / statistics.median(cpu[1])
        print(f"seeds: {name:27} 1 seed {one:6.2f} s, {n:2d} seeds {many:6.2f} s: "
              f"{n:2d}/1 = {many / one:.2f} (CPU time {ratio_cpu:.2f})  (target <= {target})",
              flush=True)  # fmt: skip


def startup(repeats: int = 3) -> None:
    """A whole ``python -m cl_teach run`` process on digits against importing torch."""
    python = [sys.executable]

    def process(*args):
        subprocess.run([*python, *args], check=True, capture_output=True, cwd=ROOT)

    torch_only = best_of(lambda: process("-c", "import torch"), repeats)
    command = ["-m", "cl_teach", "run", "--method", "finetune", "--json", "-", "--no-cache"]
    whole = best_of(lambda: process(*command), repeats)
    print(f"start-up: python -c 'import torch' {torch_only:.2f} s, a digits run process "
          f"{whole:.2f} s: {whole / torch_only:.2f}x  (target <= 2.0x)", flush=True)  # fmt: skip


def widget_times(repeats: int = 3) -> None:
    """Notebook 01's panel at its defaults: a fresh answer (an empty cache; the median of
    ``repeats``, after a warm-up answer in a cache of its own) and a cached one."""
    from cl_teach.lessons.forgetting import SETTING
    from cl_teach.widgets.forgetting import forgetting_panel

    def click():
        with contextlib.redirect_stdout(io.StringIO()):  # a panel displays its figure
            forgetting_panel(SETTING).run()

    fresh_cache()
    click()
    fresh = []
    for _ in range(repeats):
        fresh_cache()
        fresh.append(best_of(click, 1))
    cached = best_of(click, 3)
    print(f"widget: fresh run on defaults (fine-tuning + joint, 5 seeds) "
          f"{statistics.median(fresh):6.2f} s  (target <= 5 s; {load()})")  # fmt: skip
    print(f"widget: cached answer {cached:35.2f} s  (target <= 0.5 s)")


def loop_overhead(repeats: int = 5) -> None:
    """The shared loop (hooks, uint8->float per batch, the seed axis) vs a bare loop on
    pre-made floats, one seed."""
    from cl_teach.config import RunConfig
    from cl_teach.data import Stream, load_dataset
    from cl_teach.methods.finetune import FineTune
    from cl_teach.optim import SGD
    from cl_teach.train import fit

    stream = Stream(load_dataset("digits"), "B0Inc2", 0)
    data = stream.joint(len(stream) - 1)
    cfg = RunConfig()

    def method():
        m = FineTune(cfg, stream, torch.device("cpu"), [0])
        m.model.add_classes(10, m.random("init"))
        m.optimizer = SGD(m.model.parameters(), cfg.lr, 0.9, 5e-4)
        return m

    def shared():
        m = method()
        fit(m, data, m.random, epochs=5, batch_size=32, lr=cfg.lr)

    def bare():
        m = method()
        model, opt = m.model, m.optimizer
        x, y = data.to_float(data.x), data.y
        g = torch.Generator().manual_seed(0)
        for _ in range(5):
            model.train()
            order = torch.randperm(y.shape[1], generator=g)
            for k in range(0, y.shape[1], 32):
                idx = order[k : k + 32]
                logits = model(x[:, idx])["logits"]
                loss = torch.nn.functional.cross_entropy(logits[0], y[0, idx])
                opt.zero_grad()
                loss.backward()
                opt.step()

    torch.set_num_threads(1)
    bare(), shared()  # warm-up
    t_bare, t_shared = best_of(bare, repeats), best_of(shared, repeats)
    print(
        f"loop: bare PyTorch {t_bare:.3f} s, shared loop {t_shared:.3f} s, overhead "
        f"{100 * (t_shared / t_bare - 1):+.1f} %  (target <= 15 %)"
    )


def checkpoint_overhead() -> None:
    """The time a run spends writing its checkpoints (one at every task boundary), 5 seeds
    from a cold cache. (Timed inside the run: the difference of two whole runs drowns in
    the noise of a shared machine.)"""
    from cl_teach import checkpoint
    from cl_teach.config import RunConfig
    from cl_teach.experiment import run_seeds
    from cl_teach.plasticity import PlasticityConfig, run_plasticity_seeds

    seeds, save, spent = [0, 1, 2, 3, 4], checkpoint.save, []

    def timed_save(where, state):
        start = time.perf_counter()
        save(where, state)
        spent.append(time.perf_counter() - start)

    cases = {
        "DER, digits, budget 200": lambda: run_seeds(
            RunConfig(method="der", budget=200), seeds, progress=False
        ),
        "continual backprop, 30 permuted tasks": lambda: run_plasticity_seeds(
            PlasticityConfig(method="cbp"), seeds
        ),
    }
    checkpoint.save = timed_save
    try:
        for name, train in cases.items():
            fresh_cache()
            spent.clear()
            whole = best_of(train, 1)
            print(f"checkpoints: {name:38} {len(spent)} written in {sum(spent):.2f} s of "
                  f"{whole:.2f} s ({100 * sum(spent) / whole:.1f} %)", flush=True)  # fmt: skip
    finally:
        checkpoint.save = save


def main() -> None:
    groups = ["startup", "seeds", "loop", "checkpoints", "widget", "notebooks"]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", nargs="*", help="only these notebooks (stems)")
    parser.add_argument("--skip-notebooks", action="store_true")
    parser.add_argument("--only", choices=groups, help="only this group of figures")
    args = parser.parse_args()
    figures = {
        "startup": startup,
        "seeds": seeds_ratio,
        "loop": loop_overhead,
        "checkpoints": checkpoint_overhead,
        "widget": widget_times,
        "notebooks": lambda: notebook_times(args.notebooks),
    }
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    for name in groups:
        if args.only in (None, name) and not (name == "notebooks" and args.skip_notebooks):
            figures[name]()


if __name__ == "__main__":
    main()
