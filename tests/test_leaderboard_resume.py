"""The resumable loop (``run_missing``) that the eval runner and the tournament share."""

from __future__ import annotations

import importlib

from palaestra.leaderboard import EnvSpec, ResultStore, evaluate, parse_agents, runner

# the package exports the function ``tournament``, which shadows the module of that name
tournament = importlib.import_module("palaestra.leaderboard.tournament")


def _work(job: dict) -> dict:  # module level: picklable for the spawn pool
    if job["seed"] % 3 == 0:
        return {"error": f"ValueError: seed {job['seed']}", "traceback": "tb", "job": job}
    return {"seed": job["seed"], "square": job["seed"] ** 2}


def test_run_missing_skips_stores_and_counts_failures():
    jobs = [{"seed": s} for s in range(10)]
    kept: list[dict] = []

    def store_row(row):
        kept.append(row)
        return row["seed"] != 4

    out = runner.run_missing(jobs, lambda j: j["seed"] in {1, 2}, _work, store_row,
                             lambda row: f"seed {row['job']['seed']}: {row['error']}", "test ({skipped} stored)",
                             workers=1, progress=False, max_errors=2)
    # planned 10, seeds 1 and 2 already stored; 0, 3, 6, 9 fail; 4, 5, 7, 8 come back, 4 a duplicate
    assert (out.planned, out.skipped, out.ran, out.failed, out.stored) == (10, 2, 8, 4, 3)
    assert out.errors == ["seed 0: ValueError: seed 0", "seed 3: ValueError: seed 3"]  # only max_errors kept
    assert sorted(r["seed"] for r in kept) == [4, 5, 7, 8]
    assert all(r["square"] == r["seed"] ** 2 for r in kept)
    assert all(j["backend"] == "local" for j in jobs if j["seed"] not in (1, 2))
    assert out.wall_s > 0


def test_eval_and_tournament_both_go_through_run_missing(tmp_path, monkeypatch):
    calls = []
    real = runner.run_missing

    def spy(jobs, *args, **kwargs):
        calls.append(len(jobs))
        return real(jobs, *args, **kwargs)

    monkeypatch.setattr(runner, "run_missing", spy)
    monkeypatch.setattr(tournament, "run_missing", spy)
    store = ResultStore(tmp_path / "lb.sqlite")
    env = EnvSpec("palaestra/ConnectFour-v0", {"opponent": "random"})
    first = evaluate(parse_agents(["random"]), [env], episodes=3, seed=0, store=store, workers=1, progress=False)
    again = evaluate(parse_agents(["random"]), [env], episodes=4, seed=0, store=store, workers=1, progress=False)
    assert (first.stored, again.skipped, again.stored) == (3, 3, 1)
    games = tournament.tournament(parse_agents(["random", "r2=random[seed=7]"]), EnvSpec("palaestra/ConnectFour-v0"),
                                  games=2, store=store, workers=1, progress=False)
    rerun = tournament.tournament(parse_agents(["random", "r2=random[seed=7]"]), EnvSpec("palaestra/ConnectFour-v0"),
                                  games=4, store=store, workers=1, progress=False)
    assert (games.played, games.stored, rerun.skipped, rerun.played) == (2, 2, 2, 2)
    assert calls == [3, 4, 2, 4]
