"""Jobs on a real Slurm: job arrays, failures, preemption and requeue, concurrent writes.

Marked ``slurm``: ``python3 tasks.py cluster`` starts the single-node Slurm of
``scripts/slurm_local.sh`` (two fake GPUs) and runs these. Every run is tiny (digits, one
epoch, a few images per class), so each job takes seconds; each test cancels its jobs.
"""

import json
import shutil
import subprocess
import time

import pytest

from cl_teach import checkpoint
from cl_teach.cli import main
from cl_teach.config import RunConfig
from cl_teach.executors import Executor, Run
from cl_teach.experiment import run_seeds

pytestmark = pytest.mark.slurm

TINY = ["--epochs", "1", "--train-per-class", "5", "--scenario", "B0Inc5", "--device", "cpu"]


@pytest.fixture(autouse=True)
def slurm():
    if shutil.which("sinfo") is None or subprocess.call(["sinfo"], stdout=subprocess.DEVNULL):
        pytest.fail("no Slurm answers: start one with `bash scripts/slurm_local.sh start`")


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """A result cache and a jobs folder of the test's own; at the end its jobs are cancelled
    (scancel leaves those that ended as they are)."""
    monkeypatch.setenv("CL_TEACH_CACHE", str(tmp_path / "cache"))
    jobs = tmp_path / "jobs"
    yield tmp_path / "cache", jobs
    records = jobs / "jobs.json"
    ids = (
        {i.split("_")[0] for i in json.loads(records.read_text()).values()}
        if records.exists()
        else set()
    )
    if ids:
        subprocess.call(["scancel", *sorted(ids)])


def sacct(job_ids, limit: float = 60) -> dict[str, str]:
    """Each job's (each array task's) final state, as sacct has it, once it has every one of
    them: a job's result file is written a moment before Slurm ends it, and the accounting
    database records the end a moment after."""
    wanted = set(job_ids)
    ids = ",".join(sorted({i.split("_")[0] for i in wanted}))
    deadline = time.time() + limit
    while True:
        out = subprocess.check_output(
            ["sacct", "-X", "-n", "-P", "-o", "JobID,State", "-j", ids], text=True
        )
        states = {j: s for j, s in (line.split("|") for line in out.splitlines()) if j in wanted}
        ended = len(states) == len(wanted) and not {"PENDING", "RUNNING", "COMPLETING"} & set(
            states.values()
        )
        if ended or time.time() > deadline:
            return states
        time.sleep(0.5)


def without_times(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k != "seconds"}


def test_a_job_array_equals_inline_runs_and_each_task_has_its_gpu(folders, tmp_path):
    cache, jobs = folders
    argv = ["sweep", "run", "--method", "replay", "--budget", "20,200", "--seeds", "2", *TINY]
    start = time.time()
    slurm_options = ["--slurm-gpus-per-task", "1", "--slurm-folder", str(jobs)]
    out = ["--json", str(tmp_path / "slurm.json")]
    assert main([*argv, "--executor", "slurm", *slurm_options, *out]) == 0
    print(f"2 settings x 2 seeds on Slurm: {time.time() - start:.1f} s")
    ids = json.loads((jobs / "jobs.json").read_text())
    assert len(ids) == 4 and len({i.split("_")[0] for i in ids.values()}) == 1  # one array
    assert set(sacct(ids.values()).values()) == {"COMPLETED"}

    # bit for bit: each cached entry equals the one an inline run writes
    slurm = {p.name: json.loads(p.read_text()) for p in cache.glob("run-*.json")}
    inline_cache = tmp_path / "inline"
    with pytest.MonkeyPatch.context() as m:
        m.setenv("CL_TEACH_CACHE", str(inline_cache))
        assert main([*argv, "--json", str(tmp_path / "inline.json")]) == 0
    inline = {p.name: json.loads(p.read_text()) for p in inline_cache.glob("run-*.json")}
    assert len(slurm) == 4 and slurm.keys() == inline.keys()
    for name in slurm:
        assert without_times(slurm[name]) == without_times(inline[name])
    points = [
        json.loads((tmp_path / f).read_text())["points"] for f in ("slurm.json", "inline.json")
    ]
    assert [p["per_seed"] for p in points[0]] == [p["per_seed"] for p in points[1]]

    # each array task saw one fake GPU; tasks that ran at once saw different ones
    import submitit

    seen = [submitit.SlurmJob(jobs, i).result() for i in ids.values()]
    assert {s["cuda_visible_devices"] for s in seen} == {"0", "1"}
    for k, a in enumerate(seen):
        for b in seen[k + 1 :]:
            if a["started"] < b["ended"] and b["started"] < a["ended"]:
                assert a["cuda_visible_devices"] != b["cuda_visible_devices"]


def test_a_failed_run_is_named_with_its_seed_and_log_and_the_others_are_kept(folders, capsys):
    cache, jobs = folders
    argv = ["sweep", "run", "--lr", "0.05,1e30", "--seeds", "2", *TINY, "--executor", "slurm",
            "--slurm-folder", str(jobs)]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    for seed in (0, 1):
        assert (
            f"lr=1e+30 seed {seed} failed: cl_teach.train.DivergedError: training diverged" in err
        )
    logs = [line.split("log: ")[1] for line in err.splitlines() if "log: " in line]
    assert len(logs) == 2 and all(
        str(jobs) in log and "DivergedError" in open(log).read() for log in logs
    )
    assert len(list(cache.glob("run-*.json"))) == 2  # lr=0.05's seeds
    states = sacct(json.loads((jobs / "jobs.json").read_text()).values())
    assert sorted(states.values()) == ["COMPLETED", "COMPLETED", "FAILED", "FAILED"]
    assert main([*argv, "--status"]) == 0
    out = capsys.readouterr().out
    assert "lr=0.05 seed 0: COMPLETED (cached)" in out and "lr=1e+30 seed 1: FAILED" in out


def lift_requeue_hold(job_id: str, limit: float = 60) -> None:
    """Slurm holds a requeued job about two minutes (Reason=BeginTime, until its old job
    credential has expired) before it may start again; start it sooner, to keep the test
    short, but not within the second that credential was revoked: slurmd refuses a new one
    made in that second ("Job credential revoked") and the job fails."""
    deadline = time.time() + limit
    while time.time() < deadline:
        out = subprocess.check_output(
            ["squeue", "-h", "-t", "all", "-j", job_id, "-o", "%T|%r"], text=True
        )
        state, reason = out.strip().split("|")
        if reason == "BeginTime":
            time.sleep(1.05 - time.time() % 1)  # into the next second
            subprocess.check_call(["scontrol", "update", f"JobId={job_id}", "StartTime=now"])
            return
        if state in ("COMPLETED", "FAILED", "CANCELLED"):
            raise AssertionError(f"job {job_id} ended {state} instead of being requeued")
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} was not requeued within {limit} s")


def preempt(job, limit: float = 30) -> None:
    """Preemption as Slurm and submitit do it: SIGTERM (which the job ignores), then USR2
    (checkpoint and requeue). Each is sent once the one before has landed: sent together
    (submitit's ``_interrupt``), Python may handle USR2 first, and the SIGTERM that Slurm
    then delivers to every process of the step kills the ``scontrol requeue`` it started."""
    subprocess.check_call(["scancel", job.job_id, "--signal", "TERM"])
    deadline = time.time() + limit
    while "Bypassing signal SIGTERM" not in (job.stdout() or ""):
        assert time.time() < deadline, f"job {job.job_id} did not get SIGTERM within {limit} s"
        time.sleep(0.1)
    subprocess.check_call(["scancel", job.job_id, "--signal", "USR2"])


def test_a_preempted_run_requeues_and_resumes_with_the_numbers_of_an_uninterrupted_one(folders):
    cache, jobs = folders
    # digits B0Inc1: ten tasks of about 0.6 s each (here); the signals come after the
    # second, so the job cannot end before they land even on a machine several times faster
    cfg = RunConfig(method="replay", scenario="B0Inc1", epochs=60, budget=100, device="cpu")
    run = Run("run", cfg, "replay")
    executor = Executor("slurm", str(jobs), time=60)  # an hour: a signal is preemption
    start = time.time()
    [(_, job)] = executor.submit([run])
    while (checkpoint.load(run.checkpoint()) or {"done": 0})["done"] < 2:
        assert not job.done(), "the job ended before it could be interrupted"
        time.sleep(0.1)
    preempt(job)
    lift_requeue_hold(job.job_id)
    executor.wait([(run, job)])
    print(f"preempted and resumed: {time.time() - start:.1f} s")
    assert job.result()["resumed_after"] >= 2
    assert "resuming after task" in job.stdout()
    assert sacct([job.job_id])[job.job_id] == "COMPLETED"
    (entry,) = cache.glob("run-*.json")
    uninterrupted = run_seeds(cfg, [0], use_cache=False, progress=False)[0].to_json()
    assert without_times(json.loads(entry.read_text())) == without_times(uninterrupted)
    assert not list((cache / "checkpoints").iterdir())


def test_two_jobs_writing_the_same_entry_leave_one_whole_entry(folders):
    cache, jobs = folders
    run = Run("run", RunConfig(epochs=1, scenario="B0Inc5", device="cpu"), "finetune")
    executor = Executor("slurm", str(jobs))
    pairs = executor.submit([run]) + executor.submit([run])  # both before either is cached
    assert len({job.job_id for _, job in pairs}) == 2
    executor.wait(pairs)
    assert set(sacct([job.job_id for _, job in pairs]).values()) == {"COMPLETED"}
    (entry,) = cache.glob("run-*")
    assert not list(cache.glob("*.tmp")) and not list((cache / "checkpoints").iterdir())
    alone = run_seeds(run.config, [0], use_cache=False, progress=False)[0].to_json()
    assert without_times(json.loads(entry.read_text())) == without_times(alone)


def test_reproduce_submits_without_waiting_then_shows_states_and_collects(
    folders, tmp_path, cifar100, monkeypatch, capsys
):
    """The README's route: --no-wait, --status until done, --collect (a two-preset group on
    tiny CIFAR-format files)."""
    cache, jobs = folders
    monkeypatch.setenv("CL_TEACH_DATA", str(cifar100))
    argv = ["reproduce", "pycil-b50inc10", "--seeds", "1", "--epochs", "1", "--train-per-class",
            "1", "--scenario", "B0Inc50", "--device", "cpu", "--slurm-folder", str(jobs),
            "--results", str(tmp_path / "results")]  # fmt: skip
    assert main([*argv, "--executor", "slurm", "--no-wait"]) == 0
    assert "submitted 2 of 2 runs" in capsys.readouterr().out
    assert main([*argv, "--collect"]) == 2  # not done yet
    assert "not every run is done yet" in capsys.readouterr().err
    deadline = time.time() + 120
    while True:
        assert main([*argv, "--status"]) == 0
        status = capsys.readouterr().out
        if "2 of 2 runs done" in status or time.time() > deadline:
            break
        assert "not submitted" not in status
        time.sleep(2)
    assert "pycil-der-b50inc10 seed 0: COMPLETED (cached)" in status
    assert main([*argv, "--collect"]) == 0
    table = (tmp_path / "results" / "pycil-b50inc10" / "table.md").read_text()
    assert "| pycil-der-b50inc10 | 1 |" in table and "| pycil-memo-b50inc10 | 1 |" in table
    assert main([*argv, "--executor", "slurm", "--no-wait"]) == 0
    assert "submitted 0 of 2 runs" in capsys.readouterr().out  # cached: nothing submitted
