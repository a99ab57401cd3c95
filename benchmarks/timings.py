"""Speed figures for the collection, printed, not asserted (targets from the issues).

    python3 tasks.py bench                 # everything
    python3 tasks.py bench --skip-notebooks
    python3 tasks.py bench --notebooks 01_catastrophic_forgetting

Prints: each notebook's Run-all time from a cold cache (target <= 60 s, 90 s for the
plasticity notebooks), a cached widget answer (<= 0.5 s), a fresh widget run on defaults
(<= 10 s), and the shared loop's overhead against a bare PyTorch loop (<= 15 %).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"05_loss_of_plasticity": 90, "06_continual_backprop": 90}


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
        NotebookClient(nb, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        seconds = time.perf_counter() - start
        target = TARGETS.get(path.stem, 60)
        print(f"run-all {path.stem:38} {seconds:6.1f} s  (target <= {target} s)", flush=True)


def widget_times() -> None:
    from cl_teach.widgets.forgetting import forgetting_panel

    fresh_cache()
    panel = forgetting_panel()
    start = time.perf_counter()
    panel.run()
    fresh = time.perf_counter() - start
    start = time.perf_counter()
    forgetting_panel().run()
    cached = time.perf_counter() - start
    print(f"widget: fresh run on defaults (fine-tuning + joint) {fresh:6.2f} s  (target <= 10 s)")
    print(f"widget: cached answer {cached:35.2f} s  (target <= 0.5 s)")


def loop_overhead(repeats: int = 5) -> None:
    """The shared loop (hooks, uint8->float per batch) vs a bare loop on pre-made floats."""
    from cl_teach.config import RunConfig
    from cl_teach.data import Stream, load_dataset
    from cl_teach.methods.finetune import FineTune
    from cl_teach.train import fit

    stream = Stream(load_dataset("digits"), "B0Inc2", 0)
    data = stream.joint(len(stream) - 1)
    cfg = RunConfig()

    def shared():
        torch.manual_seed(0)
        method = FineTune(cfg, stream, torch.device("cpu"))
        method.model.add_classes(10)
        method.optimizer = method.make_optimizer()
        fit(method, data, epochs=5, batch_size=32, generator=torch.Generator().manual_seed(0))

    def bare():
        torch.manual_seed(0)
        method = FineTune(cfg, stream, torch.device("cpu"))
        model = method.model
        model.add_classes(10)
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9, weight_decay=5e-4)
        x, y = data.to_float(data.x), data.y
        g = torch.Generator().manual_seed(0)
        for _ in range(5):
            model.train()
            order = torch.randperm(len(y), generator=g)
            for k in range(0, len(y), 32):
                idx = order[k : k + 32]
                loss = torch.nn.functional.cross_entropy(model(x[idx])["logits"], y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()

    def best(fn):
        fn()  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    t_bare, t_shared = best(bare), best(shared)
    print(f"loop: bare PyTorch {t_bare:.3f} s, shared loop {t_shared:.3f} s, overhead "
          f"{100 * (t_shared / t_bare - 1):+.1f} %  (target <= 15 %)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", nargs="*", help="only these notebooks (stems)")
    parser.add_argument("--skip-notebooks", action="store_true")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    loop_overhead()
    widget_times()
    if not args.skip_notebooks:
        notebook_times(args.notebooks)


if __name__ == "__main__":
    main()
