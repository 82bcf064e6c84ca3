"""The evaluation runner: agents x envs x seeds, resumable, on local processes or Ray.

Each episode is a job ``(agent spec, env id, env kwargs, seed)``. Before running, the
runner asks the store which (configuration, env, seed) keys exist and skips them, so a
rerun continues where a crash stopped. Workers build a fresh agent per episode, seeded
from the episode seed (unless the spec fixes ``seed``), and keep one env per process:
an episode's result depends only on its seed, whichever worker or backend ran it.
The driver writes each result as it arrives; a crash loses only the episodes in flight.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .spec import AgentSpec, canonical_json, derive_seed, env_key
from .store import ResultStore


@dataclass
class EnvSpec:
    env_id: str
    kwargs: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return env_key(self.env_id, self.kwargs)

    @property
    def name(self) -> str:
        if not self.kwargs:
            return self.env_id
        return f"{self.env_id}[{','.join(f'{k}={v}' for k, v in sorted(self.kwargs.items()))}]"


def plan_jobs(agents: list[AgentSpec], envs: list[EnvSpec], episodes: int, seed: int, text: bool | None = None) -> list[dict]:
    """Jobs for agents x envs x seeds. A forced view (``text`` not None) joins each agent's configuration."""
    jobs = []
    for spec in agents:
        if text is not None:
            spec = spec.with_view(text)
        for env in envs:
            for i in range(episodes):
                jobs.append({"spec": spec.to_json(), "env_id": env.env_id, "env_kwargs": canonical_json(env.kwargs),
                             "seed": seed + i})
    return jobs


# ---- the worker side (runs in any process) ---------------------------------------------
_ENVS: dict = {}
_LMS: dict = {}  # language models loaded in this process, shared by the fresh agents


def _env(env_id: str, kwargs_json: str, text: bool):
    import gymnasium as gym

    import palaestra  # noqa: F401  (registers the ids)

    key = (env_id, kwargs_json, text)
    if key not in _ENVS:
        if len(_ENVS) >= 8:  # keep a handful of envs per process
            _, old = _ENVS.popitem()
            old.close()
        _ENVS[key] = gym.make(env_id, text=text, **json.loads(kwargs_json))
    return _ENVS[key]


def run_job(job: dict) -> dict:
    """Run one episode; returns a store row, or ``{"error": ..., "job": job}``."""
    try:
        import palaestra
        from palaestra.runner import run_episode

        spec = AgentSpec.from_json(job["spec"])
        agent = spec.build(seed=derive_seed("agent", spec.config_hash, job["seed"]), lm_cache=_LMS)
        env = _env(job["env_id"], job["env_kwargs"], spec.use_text(agent))
        result = run_episode(env, agent, seed=job["seed"])
        return {
            "agent": spec.name, "agent_spec": job["spec"], "config_hash": spec.config_hash,
            "env_id": job["env_id"], "env_kwargs": job["env_kwargs"],
            "env_hash": env_key(job["env_id"], json.loads(job["env_kwargs"])),
            "task_id": result.task_id, "seed": job["seed"], "ret": float(result.ret), "success": bool(result.success),
            "steps": int(result.steps), "invalid_actions": int(result.invalid_actions), "wall_s": float(result.wall_s),
            "tokens": int(result.tokens), "version": palaestra.__version__, "backend": job.get("backend"),
        }
    except Exception as exc:  # noqa: BLE001 - reported to the driver, which goes on
        return {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(), "job": job}


# ---- backends --------------------------------------------------------------------------
def _local(jobs: list[dict], fn: Callable, workers: int) -> Iterable[dict]:
    if workers <= 1:
        for job in jobs:
            yield fn(job)
        return
    import multiprocessing as mp

    # spawn: a clean interpreter per worker (no inherited threads, locks or torch state)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))
    try:
        pending = set()
        queue = list(jobs)
        limit = workers * 2  # a bounded queue: an interrupted run leaves little in flight
        while queue or pending:
            while queue and len(pending) < limit:
                pending.add(pool.submit(fn, queue.pop(0)))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def ray_init(address: str | None = None, num_cpus: int | None = None):
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError("--backend ray needs Ray: pip install 'palaestra[ray]'") from exc
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    if not ray.is_initialized():
        kwargs = {"include_dashboard": False, "log_to_driver": False}
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=num_cpus, **kwargs)
    return ray


def _ray(jobs: list[dict], fn: Callable, workers: int, address: str | None = None) -> Iterable[dict]:
    ray = ray_init(address, num_cpus=max(1, workers) if not address else None)
    remote = ray.remote(num_cpus=1, max_retries=1)(fn)
    queue = list(jobs)
    pending = []
    limit = max(1, workers) * 2
    while queue or pending:
        while queue and len(pending) < limit:
            pending.append(remote.remote(queue.pop(0)))
        done, pending = ray.wait(pending, num_returns=1)
        for ref in done:
            yield ray.get(ref)


def execute(jobs: list[dict], fn: Callable, backend: str = "local", workers: int = 1, ray_address: str | None = None):
    for job in jobs:
        job["backend"] = backend
    if backend == "local":
        return _local(jobs, fn, workers)
    if backend == "ray":
        return _ray(jobs, fn, workers, ray_address)
    raise ValueError(f"backend={backend!r}: use 'local' or 'ray'.")


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass
class Progress:
    """What :func:`run_missing` did: planned jobs, those already stored, those run now."""

    planned: int = 0
    skipped: int = 0  # already in the store
    ran: int = 0
    stored: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0


@dataclass
class EvalReport(Progress):
    """What :func:`evaluate` did."""


def open_store(store: ResultStore | str | None) -> ResultStore:
    """``store`` itself, or the store at that path (the default one for None)."""
    if isinstance(store, ResultStore):
        return store
    return ResultStore(store) if store else ResultStore()


def run_missing(
    jobs: list[dict],
    is_stored: Callable[[dict], bool],
    fn: Callable[[dict], dict],
    store_row: Callable[[dict], bool],
    describe_error: Callable[[dict], str],
    title: str,
    backend: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    progress: bool = True,
    console=None,
    max_errors: int = 5,
    report: Progress | None = None,
) -> Progress:
    """The resumable loop shared by :func:`evaluate` and the tournament.

    Skips the jobs ``is_stored`` says the store holds, runs the rest with ``fn`` on the
    backend, and stores each result as it arrives (``store_row`` says whether it was
    new); a result with ``"error"`` counts as failed, the first ``max_errors`` described
    by ``describe_error``. ``title`` may use ``{skipped}``; a rich bar shows progress.
    ``workers`` None: :func:`default_workers`. Fills and returns ``report`` (a new
    :class:`Progress` if None).
    """
    start = time.perf_counter()
    workers = default_workers() if workers is None else max(1, int(workers))
    out = report if report is not None else Progress()
    out.planned = len(jobs)
    todo = []
    for job in jobs:
        if is_stored(job):
            out.skipped += 1
        else:
            todo.append(job)
    results = execute(todo, fn, backend, workers, ray_address)
    bar = _progress(progress, console, len(todo), title.replace("{skipped}", str(out.skipped)))
    try:
        for row in results:
            out.ran += 1
            if "error" in row:
                out.failed += 1
                if len(out.errors) < max_errors:
                    out.errors.append(describe_error(row))
            else:
                out.stored += int(store_row(row))
            if bar is not None:
                bar[0].update(bar[1], advance=1, failed=out.failed)
    finally:
        if bar is not None:
            bar[0].stop()
    out.wall_s = time.perf_counter() - start
    return out


def evaluate(
    agents: list[AgentSpec],
    envs: list[EnvSpec],
    episodes: int,
    seed: int = 0,
    store: ResultStore | str | None = None,
    workers: int | None = None,
    backend: str = "local",
    text: bool | None = None,
    ray_address: str | None = None,
    progress: bool = True,
    console=None,
) -> EvalReport:
    """Run what the store lacks of agents x envs x seeds ``seed .. seed + episodes - 1``."""
    store = open_store(store)
    jobs = plan_jobs(agents, envs, episodes, seed, text)
    done: dict[tuple, set] = {}

    def is_stored(job: dict) -> bool:
        key = (AgentSpec.from_json(job["spec"]).config_hash, env_key(job["env_id"], json.loads(job["env_kwargs"])))
        if key not in done:
            done[key] = store.done_seeds(*key)
        return job["seed"] in done[key]

    def describe_error(row: dict) -> str:
        job = row["job"]
        return f"{AgentSpec.from_json(job['spec']).name} on {job['env_id']} seed {job['seed']}: {row['error']}\n{row['traceback']}"

    return run_missing(jobs, is_stored, run_job, store.add_episode, describe_error, "eval ({skipped} already stored)",
                       backend, workers, ray_address, progress, console, report=EvalReport())


def _progress(show: bool, console, total: int, title: str):
    if not show or total == 0:
        return None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("failed {task.fields[failed]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                        console=console, transient=False)
    progress.start()
    return progress, progress.add_task(title, total=total, failed=0)
