"""``collect``: N episodes in flight, each worker with its own env and agent."""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from palaestra.runner import EpisodeResult, run_episode


@dataclass
class CollectReport:
    results: list[EpisodeResult] = field(default_factory=list)
    wall_s: float = 0.0
    backend: str = "threads"
    in_flight: int = 1
    failed: list[tuple[int, str]] = field(default_factory=list)  # (seed, error)
    folders: list[str] = field(default_factory=list)

    @property
    def episodes_per_s(self) -> float:
        return len(self.results) / self.wall_s if self.wall_s else 0.0

    @property
    def success_rate(self) -> float:
        return sum(r.success for r in self.results) / len(self.results) if self.results else 0.0


class _AgentMaker:
    """A picklable way to build one agent per worker: a callable, or a registry name
    with options (``llm=`` a shared model, threads only)."""

    def __init__(self, agent, options: dict | None):
        self.agent, self.options = agent, dict(options or {})

    def __call__(self):
        if callable(self.agent) and not isinstance(self.agent, str):
            return self.agent()
        from palaestra.agents import make

        return make(self.agent, **self.options)


class _Worker:
    """One env (recorded to its own sub-folder: one writer per folder) and one agent."""

    def __init__(self, env_id, env_kwargs, text, maker, record_to, tag, max_steps):
        import gymnasium as gym

        import palaestra  # noqa: F401

        self.agent = maker()
        use_text = getattr(self.agent, "prefers_text", False) if text is None else text
        env = gym.make(env_id, text=use_text, **(env_kwargs or {}))
        self.folder = None
        if record_to is not None:
            from palaestra.wrappers import RecordEpisodes

            self.folder = str(Path(record_to) / f"worker-{tag}")
            env = RecordEpisodes(env, self.folder, agent_name=getattr(self.agent, "name", "agent"), fsync=False,
                                 env_id=env_id, env_kwargs=env_kwargs or {})
        self.env, self.max_steps = env, max_steps

    def run(self, seed: int) -> EpisodeResult:
        return run_episode(self.env, self.agent, seed=seed, max_steps=self.max_steps)

    def close(self):
        self.env.close()


def collect(
    env_id: str,
    agent: str | Callable[[], Any],
    episodes: int | None = None,
    *,
    seeds: list[int] | None = None,
    seed: int = 0,
    in_flight: int = 32,
    agent_options: dict | None = None,
    env_kwargs: dict | None = None,
    text: bool | None = None,
    record_to: str | os.PathLike | None = None,
    backend: str = "threads",
    max_steps: int = 10_000,
    progress: bool = True,
    console=None,
    ray_address: str | None = None,
) -> CollectReport:
    """Run ``episodes`` episodes (seeds ``seed``, ``seed + 1``, ...; or exactly ``seeds``)
    with ``in_flight`` of them running at once.

    ``agent`` is a callable returning a fresh agent, or a registry name built with
    ``agent_options`` (pass one shared ``llm=`` model there: an ``OpenAICompatibleLM``
    whose ``concurrency`` is at least ``in_flight``, or a local model wrapped in
    :class:`~palaestra.rollouts.BatchingLM`). ``backend``: ``"threads"`` (default),
    ``"processes"`` (envs that are not thread-safe, e.g. browser envs; the agent must be
    picklable to build: a name with options, or a module-level callable) or ``"ray"``.
    With ``record_to`` every worker records into ``record_to/worker-K`` (``palaestra
    recordings record_to`` reads them together). Episodes that raise are reported in
    ``failed``, not retried. Each episode's env is seeded by its seed, whichever worker
    runs it; an agent with its own random stream (``random``, sampling LLMs) draws
    differently depending on which episodes its worker played before.
    """
    if backend not in ("threads", "processes", "ray"):
        raise ValueError(f"backend={backend!r}: use 'threads', 'processes' or 'ray'.")
    if seeds is None:
        if episodes is None:
            raise ValueError("say how many episodes: episodes=N (seeds seed..seed+N-1) or seeds=[...].")
        seeds = list(range(int(seed), int(seed) + int(episodes)))
    seeds = [int(s) for s in seeds]
    in_flight = max(1, min(int(in_flight), len(seeds) or 1))
    maker = _AgentMaker(agent, agent_options)
    report = CollectReport(backend=backend, in_flight=in_flight)
    start = time.perf_counter()
    with _Progress(progress, len(seeds), f"{_name(agent)} on {env_id}, {in_flight} in flight", console) as bar:
        run = {"threads": _threads, "processes": _processes, "ray": _ray}[backend]
        run(env_id, env_kwargs, text, maker, record_to, max_steps, seeds, in_flight, report, bar, ray_address)
    report.wall_s = time.perf_counter() - start
    order = {s: i for i, s in enumerate(seeds)}
    report.results.sort(key=lambda r: order.get(r.seed, 0))
    report.folders = sorted(set(report.folders))
    return report


def _name(agent) -> str:
    return agent if isinstance(agent, str) else getattr(agent, "__name__", type(agent).__name__)


class _Progress:
    def __init__(self, enabled, total, title, console):
        self.enabled, self.total, self.title, self.console = enabled, total, title, console
        self.done = self.wins = 0
        self._lock = threading.Lock()

    def __enter__(self):
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.p = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                              TextColumn("success {task.fields[rate]}"), TimeRemainingColumn(), console=self.console)
            self.p.__enter__()
            self.task = self.p.add_task(self.title, total=self.total, rate="-")
        return self

    def advance(self, result: EpisodeResult | None):
        with self._lock:
            self.done += 1
            self.wins += bool(result is not None and result.success)
            if self.enabled:
                self.p.update(self.task, advance=1, rate=f"{self.wins / self.done:.0%}")

    def __exit__(self, *exc):
        if self.enabled:
            self.p.__exit__(*exc)


def _threads(env_id, env_kwargs, text, maker, record_to, max_steps, seeds, in_flight, report, bar, _address):
    todo: queue.Queue = queue.Queue()
    for s in seeds:
        todo.put(s)
    lock = threading.Lock()
    setup_errors: list[BaseException] = []

    def work(tag: int):
        try:
            worker = _Worker(env_id, env_kwargs, text, maker, record_to, f"{os.getpid()}-{tag}", max_steps)
        except BaseException as err:  # noqa: BLE001 - reported below, with what to do
            setup_errors.append(err)
            return
        try:
            while True:
                try:
                    s = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    result = worker.run(s)
                except Exception as err:  # noqa: BLE001 - one bad episode does not stop the others
                    with lock:
                        report.failed.append((s, f"{type(err).__name__}: {err}"))
                    bar.advance(None)
                    continue
                with lock:
                    report.results.append(result)
                bar.advance(result)
        finally:
            if worker.folder:
                with lock:
                    report.folders.append(worker.folder)
            worker.close()

    threads = [threading.Thread(target=work, args=(i,), name=f"palaestra-rollout-{i}", daemon=True)
               for i in range(in_flight)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if setup_errors and not report.results:
        raise RuntimeError(f"no worker could start: {setup_errors[0]!r}") from setup_errors[0]


# ---- processes: one env and agent per process, kept between episodes ---------------------
_PROC: dict = {}


def _proc_init(env_id, env_kwargs, text, maker, record_to, max_steps):
    import atexit

    _PROC["worker"] = _Worker(env_id, env_kwargs, text, maker, record_to, str(os.getpid()), max_steps)
    atexit.register(_PROC["worker"].close)


def _proc_run(s: int):
    worker = _PROC["worker"]
    return worker.run(s), worker.folder


def _processes(env_id, env_kwargs, text, maker, record_to, max_steps, seeds, in_flight, report, bar, _address):
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=in_flight, mp_context=ctx, initializer=_proc_init,
                             initargs=(env_id, env_kwargs, text, maker, record_to, max_steps)) as pool:
        futures = {pool.submit(_proc_run, s): s for s in seeds}
        for fut in as_completed(futures):
            try:
                result, folder = fut.result()
            except Exception as err:  # noqa: BLE001
                report.failed.append((futures[fut], f"{type(err).__name__}: {err}"))
                bar.advance(None)
                continue
            report.results.append(result)
            if folder:
                report.folders.append(folder)
            bar.advance(result)


def _ray(env_id, env_kwargs, text, maker, record_to, max_steps, seeds, in_flight, report, bar, address):
    from palaestra.core import require

    ray = require("ray", "ray")
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)

    @ray.remote
    class RolloutActor:
        def __init__(self):
            self.worker = _Worker(env_id, env_kwargs, text, maker, record_to, f"ray-{os.getpid()}", max_steps)

        def run(self, s):
            return self.worker.run(s), self.worker.folder

    actors = [RolloutActor.remote() for _ in range(in_flight)]
    pending = {}
    it = iter(seeds)
    for actor in actors:
        s = next(it, None)
        if s is not None:
            pending[actor.run.remote(s)] = (actor, s)
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        actor, s = pending.pop(ready[0])
        try:
            result, folder = ray.get(ready[0])
            report.results.append(result)
            if folder:
                report.folders.append(folder)
            bar.advance(result)
        except Exception as err:  # noqa: BLE001
            report.failed.append((s, f"{type(err).__name__}: {err}"))
            bar.advance(None)
        nxt = next(it, None)
        if nxt is not None:
            pending[actor.run.remote(nxt)] = (actor, nxt)
    for actor in actors:
        ray.kill(actor)
