"""The Ray backend: a small eval on a local Ray instance gives the same rows as local processes."""

import os

import pytest

from palaestra.leaderboard import EnvSpec, ResultStore, evaluate, parse_agents

ray = pytest.importorskip("ray")

KEYS = ("config_hash", "env_hash", "task_id", "seed", "ret", "success", "steps")


@pytest.fixture
def local_ray():
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_backend_matches_local_processes(local_ray, tmp_path):
    agents = parse_agents(["random", "m8=mcts[simulations=8]"])
    envs = [EnvSpec("palaestra/ConnectFour-v0", {"opponent": "random"})]
    on_ray = ResultStore(tmp_path / "ray.sqlite")
    report = evaluate(agents, envs, episodes=4, seed=7, store=on_ray, workers=2, backend="ray", progress=False)
    assert report.failed == 0, report.errors
    assert report.stored == 8
    assert {r["backend"] for r in on_ray.episodes()} == {"ray"}
    local = ResultStore(tmp_path / "local.sqlite")
    evaluate(agents, envs, episodes=4, seed=7, store=local, workers=1, progress=False)
    rows = lambda s: sorted(tuple(r[k] for k in KEYS) for r in s.episodes())  # noqa: E731
    assert rows(on_ray) == rows(local)
    # resumable on Ray too
    again = evaluate(agents, envs, episodes=4, seed=7, store=on_ray, workers=2, backend="ray", progress=False)
    assert (again.skipped, again.stored) == (8, 0)
