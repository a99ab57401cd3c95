"""Where the runs of a multi-run command go (``reproduce``, ``sweep``): ``--executor``

- ``inline`` (the default): this process, one setting after another, its seeds side by side;
- ``local``: one process per run on this machine (submitit's LocalExecutor), at most one
  per GPU at a time, each pinned to its own GPU with ``CUDA_VISIBLE_DEVICES``; one at a
  time on a machine without a GPU (submitit alone would start every job at once, all of
  them on GPU 0);
- ``slurm``: one Slurm job array through submitit, one array task per run.

A run is one setting with one seed (:class:`Run`). Results come back through the result
cache: each job caches its run, so on a cluster ``CL_TEACH_CACHE`` must be on a filesystem
the nodes share. A run already cached is never submitted, so a command run again submits
only what is missing. Each job is a submitit ``Checkpointable``: preempted or out of time,
Slurm requeues it and the run resumes from its last finished task
(:mod:`cl_teach.checkpoint`).
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import submitit

from . import cache, checkpoint

EXECUTORS = ("inline", "local", "slurm")
POLL_SECONDS = 0.5  # how often the local executor looks for a finished process
#: the state of a run whose result is in the cache
CACHED = "COMPLETED (cached)"


class RunsFailed(ValueError):
    """Runs given to an executor failed or are not done; the message names each run, its
    seed and its log. A ValueError, so that the command line reports it as an error."""


@dataclass(frozen=True)
class Run:
    """One setting with one seed: ``kind`` is ``run`` (class-incremental) or ``plasticity``,
    ``config`` the run's config (its seed set), ``label`` what messages call the setting."""

    kind: str
    config: object
    label: str

    @property
    def seed(self) -> int:
        return self.config.seed

    def key(self) -> dict:
        """The key of the run's cached result: the one ``python -m cl_teach run`` (or
        ``plasticity``) gives the same settings."""
        if self.kind == "run":
            from .experiment import _key
        else:
            from .plasticity.experiment import _key
        return _key(self.config)

    @property
    def name(self) -> str:
        """The name of the run's cache entry."""
        return cache.key(self.kind, self.key())

    def cached(self) -> bool:
        return cache.load(self.kind, self.key()) is not None

    def checkpoint(self) -> Path:
        return checkpoint.path(self.kind, self.key(), [self.seed])

    def execute(self) -> None:
        """Train the run (resuming from its checkpoint) and cache its result."""
        if self.kind == "run":
            from .experiment import run_seeds

            run_seeds(self.config, [self.seed], progress=False)
        else:
            from .plasticity import run_plasticity_seeds

            run_plasticity_seeds(self.config, [self.seed])

    def __str__(self) -> str:
        return f"{self.label} seed {self.seed}"


class Job(submitit.helpers.Checkpointable):
    """What a submitted job runs: one :class:`Run`, with the result cache and data folder of
    the machine that submitted it. Checkpointable: preempted or out of time, the job is
    requeued with the same run, which then resumes from its checkpoint. Returns where it
    ran: host, ``CUDA_VISIBLE_DEVICES``, the tasks it resumed after, start and end times."""

    def __init__(self):
        from .data import data_root

        self.env = {"CL_TEACH_CACHE": str(cache.cache_dir()), "CL_TEACH_DATA": str(data_root())}

    def __call__(self, run: Run) -> dict:
        os.environ.update(self.env)
        started = time.time()
        resumed_after = (checkpoint.load(run.checkpoint()) or {"done": 0})["done"]
        print(f"{run}: " + (f"resuming after task {resumed_after}" if resumed_after else "start"))
        run.execute()
        return {
            "run": str(run),
            "host": socket.gethostname(),
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "resumed_after": resumed_after,
            "started": started,
            "ended": time.time(),
        }


def gpus() -> list[int]:
    """This machine's GPUs, numbered as ``CUDA_VISIBLE_DEVICES`` numbers them."""
    import torch

    count = torch.cuda.device_count()
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")
    if count and all(v.strip().isdigit() for v in visible):
        return [int(v) for v in visible][:count]
    return list(range(count))


@dataclass(frozen=True)
class Executor:
    """``--executor`` with its options (the ``--slurm-*`` ones are Slurm's; ``folder`` holds
    submitit's files and the jobs' logs, by default ``<cache>/jobs``). ``debug`` is
    submitit's DebugExecutor: the jobs run in this process when waited for (tests)."""

    name: str = "inline"
    folder: str | None = None
    partition: str | None = None
    gpus_per_task: int = 0
    time: int = 360  # minutes; the local executor's limit too
    array_parallelism: int = 256
    account: str | None = None

    def __post_init__(self):
        if self.name not in (*EXECUTORS, "debug"):
            raise ValueError(
                f"unknown executor {self.name!r}; choose one of {', '.join(EXECUTORS)}"
            )
        for name in ("gpus_per_task", "time", "array_parallelism"):
            value = getattr(self, name)
            if value < (0 if name == "gpus_per_task" else 1):
                raise ValueError(f"--slurm-{name.replace('_', '-')} {value}: too small")

    @property
    def logs(self) -> Path:
        return Path(self.folder) if self.folder else cache.cache_dir() / "jobs"

    # --- running ------------------------------------------------------------------------
    def run(self, runs: list[Run]) -> list[tuple[Run, submitit.Job]]:
        """Run every run not cached yet as jobs and wait for all; raise :class:`RunsFailed`
        naming each run that failed (the others' results stay cached). Returns the jobs,
        whose results say where each ran. (``inline`` runs are the command's own: it
        trains them itself, its seeds side by side.)"""
        jobs = self._local(todo(runs)) if self.name == "local" else self.submit(runs)
        self.wait(jobs)
        return jobs

    def submit(self, runs: list[Run]) -> list[tuple[Run, submitit.Job]]:
        """Submit the runs not cached yet as one job array (Slurm) and return at once; the
        job ids are recorded in ``<folder>/jobs.json`` for :meth:`status`."""
        if self.name not in ("slurm", "debug"):
            raise ValueError("--no-wait needs --executor slurm (local jobs end with this process)")
        if self.gpus_per_task and any(run.config.device == "auto" for run in runs):
            raise ValueError(
                "give --device cuda: with --device auto this machine (without a GPU, as a "
                "login node) would look for the results under another key than the nodes"
            )
        runs = todo(runs)
        if not runs:
            return []
        if self.name == "debug":
            executor = submitit.DebugExecutor(self.logs)
        else:
            executor = submitit.SlurmExecutor(self.logs)
            options = {"partition": self.partition, "account": self.account}
            if self.gpus_per_task:
                options["gpus_per_node"] = self.gpus_per_task  # one task per job
            executor.update_parameters(
                job_name="cl_teach",
                time=self.time,
                array_parallelism=self.array_parallelism,
                **{k: v for k, v in options.items() if v is not None},
            )
        jobs = executor.map_array(Job(), runs)
        self._record({run.name: job.job_id for run, job in zip(runs, jobs, strict=True)})
        return list(zip(runs, jobs, strict=True))

    def wait(self, jobs: list[tuple[Run, submitit.Job]]) -> None:
        failed, lost = [], []
        for run, job in jobs:
            error = job.exception()  # waits for the job to end
            if error is not None:
                failed.append(f"{run} failed: {_reason(error)}\n  log: {job.paths.stderr}")
            elif not run.cached():
                lost.append(str(run))
        if lost:
            failed.append(
                f"jobs of {', '.join(lost)} finished but their results are not in the cache "
                f"{cache.cache_dir()}: is it on a filesystem the nodes share?"
            )
        if failed:
            kept = len(jobs) - len(failed)
            raise RunsFailed(
                "\n".join(failed) + f"\n{kept} other run(s) finished and are cached; running "
                "the command again submits only the runs that are missing"
            )

    def _local(self, runs: list[Run]) -> list[tuple[Run, submitit.Job]]:
        """One process per run, at most one per GPU at a time, each pinned to its GPU (no
        GPU: one process at a time); returns when all have ended."""
        executor = submitit.LocalExecutor(self.logs)
        job, free = Job(), gpus() or [None]
        pending, running, ended = list(runs), [], []
        while pending or running:
            while pending and free:
                gpu = free.pop(0)
                executor.update_parameters(
                    timeout_min=self.time,
                    gpus_per_node=0 if gpu is None else 1,
                    visible_gpus=() if gpu is None else (gpu,),
                )
                run = pending.pop(0)
                running.append((run, executor.submit(job, run), gpu))
            time.sleep(POLL_SECONDS)
            for entry in [e for e in running if e[1].done()]:
                running.remove(entry)
                ended.append(entry[:2])
                free.append(entry[2])
        return ended

    # --- following submitted runs ------------------------------------------------------------
    def _record(self, ids: dict[str, str]) -> None:
        path = self.logs / "jobs.json"
        known = {**self._records(), **ids}
        cache.write_atomic(path, lambda f: f.write(json.dumps(known, indent=1).encode()))

    def _records(self) -> dict[str, str]:
        path = self.logs / "jobs.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def states(self, runs: list[Run]) -> list[tuple[Run, str, Path | None]]:
        """Each run's state: COMPLETED (cached), Slurm's state of its job (from sacct) with
        its log file, or not submitted."""
        records, out = self._records(), []
        for run in runs:
            job_id = records.get(run.name)
            if run.cached():
                out.append((run, CACHED, None))
            elif job_id is None:
                out.append((run, "not submitted", None))
            else:
                job = submitit.SlurmJob(self.logs, job_id)
                out.append((run, f"{job.state} (job {job_id})", job.paths.stderr))
        return out

    def status(self, runs: list[Run]) -> str:
        """One line per run and the count of those done, all from one look at the cache
        (a run that lands meanwhile is counted on the next call, not half on this one)."""
        states = self.states(runs)
        lines = [f"{run}: {state}" + (f", log {log}" if log else "") for run, state, log in states]
        done = sum(state == CACHED for _, state, _ in states)
        return "\n".join(lines + [f"{done} of {len(runs)} runs done"])

    def require_done(self, runs: list[Run]) -> None:
        """For ``--collect``: raise unless every run's result is cached."""
        missing = [(run, state) for run, state, _ in self.states(runs) if not run.cached()]
        if missing:
            raise RunsFailed(
                "not every run is done yet:\n"
                + "\n".join(f"  {run}: {state}" for run, state in missing)
                + "\n--status follows them; running the command again submits the missing ones"
            )


def todo(runs: list[Run]) -> list[Run]:
    """The runs not cached yet, each result once (settings that differ only in options the
    method never reads give the same run)."""
    out = {}
    for run in runs:
        out.setdefault(run.name, run)
    return [run for run in out.values() if not run.cached()]


def _reason(error: BaseException) -> str:
    """The line of a job's error that says what went wrong (its traceback's last line)."""
    text = str(error)
    if "----------------------" in text:  # submitit's FailedJobError: the trace between rules
        text = text.split("----------------------")[1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
