"""Collecting search-labelled states (and evaluating policies) in parallel processes.

A *labelled state* is one step of an episode with the search's verdict on it: the
root's children with their visits, Q, the spread of Q and solver-proven values, as
``MCTSAgent.last_search`` reports them. Who acts is ``actor``:

- ``"search"``: the search's own choice (off-policy data, e.g. for a first SFT);
- ``"policy"``: a language-model policy (``LLMAgent`` scoring the legal actions, at
  ``policy_temperature``) acts and the search labels every state it reaches; the
  policy's choice is marked ``"policy": true`` among the children, so pairs can set
  the search's best against the policy's own move (on-policy, where its mistakes are).

Episodes are split over ``workers`` processes (``backend="process"``, spawned) or Ray
tasks (``backend="ray"``; ``"auto"`` takes Ray when it is installed and already
initialised). Each episode is seeded, and its search too, so a collection is the same
whatever the number of workers. Every worker writes its own recording folder under
``out_dir`` (``part-K/meta.json`` + ``episodes.jsonl``); ``read_episodes(out_dir)``
reads them all. Each episode records ``prompt`` (``"full"`` or ``"compact"``, the
prompt layout the policy used and that training must use) and ``search_reward``.

With ``label=False`` nothing is searched: the same machinery plays evaluation games.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class CollectSettings:
    env_id: str
    env_kwargs: dict = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: list(range(16)))
    mcts: dict = field(default_factory=lambda: {"simulations": 200, "rollout": "random"})
    actor: str = "search"               # "search" or "policy"
    model: str | None = None            # the policy (actor="policy", or label=False)
    policy_temperature: float = 0.0     # 0: the policy's best-scored action; > 0 samples
    prompt: str = "full"                # "full" or "compact" (the policy's prompt, recorded)
    history: int = 4                    # earlier actions in the full prompt
    label: bool = True                  # False: no search (evaluation games)
    max_steps: int = 200
    workers: int = 2
    backend: str = "process"            # "process", "ray" or "auto"
    threads: int = 1                    # torch threads per worker
    device: str | None = None

    def __post_init__(self):
        if self.actor not in ("search", "policy"):
            raise ValueError(f"actor={self.actor!r}: use 'search' (the search acts) or 'policy' (the model acts, "
                             "the search labels every state).")
        if self.prompt not in ("full", "compact"):
            raise ValueError(f"prompt={self.prompt!r}: use 'full' (instructions, history, state) or 'compact' "
                             "(the state only).")
        if self.backend not in ("process", "ray", "auto"):
            raise ValueError(f"backend={self.backend!r}: use 'process', 'ray' or 'auto'.")
        if (self.actor == "policy" or not self.label) and not self.model:
            raise ValueError("a policy acts here (actor='policy' or label=False): pass model=PATH.")
        if not self.label and self.actor == "search":
            raise ValueError("label=False plays evaluation games with the policy: set actor='policy'.")
        if int(self.workers) < 1:
            raise ValueError(f"workers={self.workers}: use 1 or more.")


@dataclass
class CollectReport:
    folder: Path
    episodes: int
    states: int
    labelled: int
    wins: int
    wall_s: float
    cpu_s: float
    backend: str
    workers: int
    results: list[dict] = field(default_factory=list)  # per episode, by seed order

    @property
    def states_per_s(self) -> float:
        return self.labelled / self.wall_s if self.wall_s else 0.0

    def summary(self) -> str:
        return (f"{self.episodes} episodes, {self.states} states ({self.labelled} labelled), {self.wins} won; "
                f"{self.wall_s:.0f} s wall on {self.workers} {self.backend} workers "
                f"({self.states_per_s:.1f} labelled states/s)")


def _env(settings: dict):
    import gymnasium as gym

    import palaestra  # noqa: F401  (registers ids)

    return gym.make(settings["env_id"], text=True, **settings["env_kwargs"])


def _play_one(env, seed: int, s: dict, policy, mcts_opts: dict | None) -> dict:
    from palaestra.agents.mcts import MCTSAgent

    obs, info = env.reset(seed=int(seed))
    base = env.unwrapped
    mcts = None
    if mcts_opts is not None:
        mcts = MCTSAgent(**{**mcts_opts, "seed": int(seed)})
        mcts.reset(env)
    if s["actor"] != "policy":
        policy = None  # it only serves the search's model calls
    if policy is not None:
        policy.reset(env)
        policy.rng.seed(int(seed))
    steps, ret, invalid = [], 0.0, 0
    for t in range(int(s["max_steps"])):
        observation = base.render_text()
        search = None
        if mcts is not None:
            action = mcts.act(obs, info)
            search = [dict(c) for c in (mcts.last_search or [])]
        if policy is not None:
            mine = policy.act(obs, info)
            if search is not None:
                hit = next((c for c in search if str(c.get("action")) == str(mine)), None)
                if hit is not None:
                    hit["policy"] = True
            if mcts is not None and str(mine) != str(action):
                mcts.root = None  # the tree below another move is no use next step
                mcts.history[-1] = ("", str(mine))
            action = mine
        obs, reward, terminated, truncated, info = env.step(action)
        ret += float(reward)
        invalid += int("invalid_action" in info)
        step = {"t": t, "observation": observation, "action": str(action), "reward": float(reward),
                "terminated": bool(terminated), "truncated": bool(truncated),
                "info": {k: v for k, v in info.items() if k == "invalid_action"}}
        if search is not None:
            step["search"] = search
        steps.append(step)
        if terminated or truncated:
            break
    return {"episode_id": f"{s['env_id']}-{seed}", "env_id": s["env_id"], "task_id": info.get("task_id"),
            "seed": int(seed), "goal": getattr(getattr(base, "task", None), "goal", None),
            "agent": "mcts" if s["actor"] == "search" else f"llm({s['model']})", "steps": steps,
            "return": ret, "success": bool(info.get("success", False)), "length": len(steps),
            "invalid_actions": invalid, "prompt": s["prompt"],
            "search_reward": None if mcts_opts is None else mcts_opts.get("search_reward", "agent")}


def _work(job: dict) -> dict:
    """One worker's share: play ``job['seeds']``, write ``job['folder']``; a summary back."""
    import resource

    s = job["settings"]
    if s.get("threads"):
        try:
            import torch

            torch.set_num_threads(int(s["threads"]))
        except ImportError:
            pass
    from .episodes import write_recording

    env = _env(s)
    policy = None
    if s["actor"] == "policy" or s.get("model"):
        from palaestra.agents.llm.transformers_lm import TransformersLM
        from palaestra.agents.llm_agent import LLMAgent

        lm = TransformersLM(s["model"], device=s.get("device"), max_threads=s.get("threads") or 1)
        policy = LLMAgent(llm=lm, policy="legal", temperature=s["policy_temperature"], history=s["history"],
                          prompt=s["prompt"], seed=0)
    mcts_opts = dict(s["mcts"]) if s["label"] else None
    if mcts_opts is not None and mcts_opts.get("llm") is None and mcts_opts.get("model") is None and (
            mcts_opts.get("priors") == "llm" or mcts_opts.get("critic") == "llm" or mcts_opts.get("rollout") == "policy"):
        if policy is None:
            raise ValueError("the search uses a language model (priors/critic/rollout): pass model=PATH.")
        mcts_opts["llm"] = policy.llm  # one model per worker, shared by the policy and the search
        mcts_opts.setdefault("prompt", s["prompt"])
    folder = Path(job["folder"])
    out = []
    instructions = (env.unwrapped.instructions or "")
    start = resource.getrusage(resource.RUSAGE_SELF)
    try:
        for seed in job["seeds"]:
            ep = _play_one(env, seed, s, policy, mcts_opts)
            write_recording(folder, [ep], s["env_id"], s["env_kwargs"], agent=ep["agent"], instructions=instructions)
            out.append({"seed": ep["seed"], "task_id": ep["task_id"], "return": ep["return"], "success": ep["success"], "length": ep["length"],
                        "invalid_actions": ep["invalid_actions"],
                        "labelled": sum(1 for st in ep["steps"] if st.get("search"))})
    finally:
        env.close()
    end = resource.getrusage(resource.RUSAGE_SELF)
    return {"episodes": out, "cpu_s": (end.ru_utime - start.ru_utime) + (end.ru_stime - start.ru_stime)}


def _run_ray(jobs: list[dict], workers: int) -> list[dict]:
    import ray

    if not ray.is_initialized():
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    remote = ray.remote(num_cpus=1)(_work)
    return ray.get([remote.remote(j) for j in jobs])


def collect(settings: CollectSettings, out_dir, progress=None) -> CollectReport:
    """Play ``settings.seeds`` in parallel, writing the labelled episodes under ``out_dir``."""
    out = Path(out_dir)
    if out.exists() and any(out.glob("part-*/episodes.jsonl")):
        raise FileExistsError(f"{out} already holds a collection (episodes would mix); pass a new folder.")
    out.mkdir(parents=True, exist_ok=True)
    s = asdict(settings)
    backend = settings.backend
    if backend == "auto":
        try:
            import ray

            backend = "ray" if ray.is_initialized() else "process"
        except ImportError:
            backend = "process"
    workers = max(1, min(int(settings.workers), len(settings.seeds)))
    n_jobs = workers if workers == 1 else min(len(settings.seeds), workers * 4)
    jobs = [{"settings": s, "seeds": settings.seeds[k::n_jobs], "folder": str(out / f"part-{k:03d}")}
            for k in range(n_jobs)]
    (out / "collect.json").write_text(json.dumps({"settings": s, "backend": backend}, indent=1))
    start = time.perf_counter()
    if workers == 1:
        results = []
        for j in jobs:
            results.append(_work(j))
    elif backend == "ray":
        results = _run_ray(jobs, workers)
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            results = list(pool.map(_work, jobs))
    wall = time.perf_counter() - start
    eps = sorted((e for r in results for e in r["episodes"]), key=lambda e: settings.seeds.index(e["seed"]))
    report = CollectReport(out, len(eps), sum(e["length"] for e in eps), sum(e["labelled"] for e in eps),
                           sum(bool(e["success"]) for e in eps), wall, sum(r["cpu_s"] for r in results), backend,
                           workers, eps)
    (out / "collect.json").write_text(json.dumps({"settings": s, "backend": backend, "episodes": report.episodes,
                                                  "states": report.states, "labelled": report.labelled,
                                                  "wins": report.wins, "wall_s": wall, "cpu_s": report.cpu_s},
                                                 indent=1))
    return report


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


__all__ = ["CollectSettings", "CollectReport", "collect"]
