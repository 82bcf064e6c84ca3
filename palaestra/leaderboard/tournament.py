"""Round-robin tournaments for two-player games, with colours alternated.

A game runs in the env's self-play mode (``opponent=None``: both players act through
``step``; ``env.unwrapped.to_play()`` says who moves; at the end ``info["returns"]`` holds
both players' returns). Each pair plays ``games`` games: game ``g`` uses seed
``seed + g // 2`` and the pair swaps colours every game, so both colours see the same
seeds. Agents are built fresh per game, seeded from (seed, configuration, colour). An
illegal native move loses the game for the player who made it (as in PettingZoo); an
agent in the text view sees an unparsable reply's error and may try again, losing after
3 invalid replies in a row. A game stopped by ``max_plies`` counts as a draw.
"""

from __future__ import annotations

import itertools
import json
import time
import traceback
from dataclasses import dataclass

from .runner import _LMS, EnvSpec, Progress, open_store, run_missing
from .spec import AgentSpec, canonical_json, derive_seed
from .store import ResultStore

_GAME_ENVS: dict = {}


def _game_env(env_id: str, kwargs_json: str):
    import gymnasium as gym

    import palaestra  # noqa: F401

    key = (env_id, kwargs_json)
    if key not in _GAME_ENVS:
        kwargs = json.loads(kwargs_json)
        kwargs["opponent"] = None
        env = gym.make(env_id, **kwargs)
        if getattr(env.unwrapped, "num_players", 1) != 2 or not callable(getattr(env.unwrapped, "to_play", None)):
            raise ValueError(f"{env_id} is not a two-player game with a self-play mode (opponent=None); "
                             "tournaments need one, e.g. palaestra/ConnectFour-v0.")
        _GAME_ENVS[key] = env
    return _GAME_ENVS[key]


class _Seat:
    """One player at the table: its agent, and the view (native or text) it acts through."""

    def __init__(self, agent, env, text: bool):
        from palaestra.wrappers import TextInterface

        self.agent = agent
        self.text = text
        self.view = TextInterface(env) if self.text else env
        agent.reset(self.view)

    def act(self, base, obs, info, max_invalid: int = 3):
        """The mover's native action. A text reply that does not parse is shown back to the
        agent with the error, as the text view does, up to ``max_invalid`` times in a row."""
        if not self.text:
            return self.agent.act(obs, info)
        from palaestra.core import InvalidAction

        text_obs, text_info = base.render_text(), dict(info)
        for attempt in range(max_invalid):
            reply = self.agent.act(text_obs, text_info)
            try:
                return base.parse_action(reply)
            except InvalidAction as err:
                if attempt == max_invalid - 1:
                    raise
                text_obs = f"Invalid action: {err}\n\n{base.render_text()}"
                text_info = dict(info, invalid_action=str(err))

    def close(self):
        close = getattr(self.agent, "close", None)
        if callable(close):
            close()


def play_game(job: dict) -> dict:
    """Play one game; returns a ``matches`` row, or ``{"error": ..., "job": job}``."""
    try:
        import palaestra
        from palaestra.core import InvalidAction

        env = _game_env(job["env_id"], job["env_kwargs"])
        base = env.unwrapped
        specs = [AgentSpec.from_json(job["first"]), AgentSpec.from_json(job["second"])]
        start = time.perf_counter()
        obs, info = env.reset(seed=job["seed"])
        seats = []
        for role, spec in enumerate(specs):
            agent = spec.build(seed=derive_seed("game", job["seed"], spec.config_hash, role), lm_cache=_LMS)
            seats.append(_Seat(agent, env, spec.use_text(agent)))
        outcome, score, plies = None, 0.5, 0
        try:
            while True:
                mover = base.to_play()
                try:
                    action = seats[mover].act(base, obs, info)
                    obs, _, terminated, truncated, info = env.step(action)
                except InvalidAction as err:
                    outcome = f"forfeit-{'first' if mover == 0 else 'second'}: {err}"[:300]
                    score = 0.0 if mover == 0 else 1.0
                    break
                plies += 1
                if terminated:
                    r0, r1 = info.get("returns", (0.0, 0.0))
                    score = 1.0 if r0 > r1 else 0.0 if r0 < r1 else 0.5
                    outcome = "first" if score == 1.0 else "second" if score == 0.0 else "draw"
                    break
                if truncated:
                    outcome, score = "truncated", 0.5
                    break
        finally:
            for seat in seats:
                seat.close()
        return {
            "tournament": job.get("tournament"), "env_id": job["env_id"], "env_kwargs": job["env_kwargs"],
            "env_hash": job["env_hash"], "seed": job["seed"],
            "first": specs[0].config_hash, "second": specs[1].config_hash,
            "first_agent": specs[0].name, "second_agent": specs[1].name,
            "first_spec": job["first"], "second_spec": job["second"],
            "score": score, "outcome": outcome, "plies": plies, "wall_s": time.perf_counter() - start,
            "version": palaestra.__version__, "backend": job.get("backend"),
        }
    except Exception as exc:  # noqa: BLE001 - reported to the driver
        return {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(), "job": job}


@dataclass
class TournamentReport(Progress):
    """What :func:`tournament` did; ``played`` is the games run now (``ran``)."""

    @property
    def played(self) -> int:
        return self.ran


def plan_games(agents: list[AgentSpec], env: EnvSpec, games: int, seed: int, name: str | None = None) -> list[dict]:
    jobs = []
    for a, b in itertools.combinations(agents, 2):
        for g in range(games):
            first, second = (a, b) if g % 2 == 0 else (b, a)
            jobs.append({"tournament": name, "env_id": env.env_id, "env_kwargs": canonical_json(env.kwargs),
                         "env_hash": env.key, "seed": seed + g // 2, "first": first.to_json(),
                         "second": second.to_json()})
    return jobs


def tournament(
    agents: list[AgentSpec],
    env: EnvSpec,
    games: int = 10,
    seed: int = 0,
    store: ResultStore | str | None = None,
    workers: int | None = None,
    backend: str = "local",
    ray_address: str | None = None,
    name: str | None = None,
    progress: bool = True,
    console=None,
) -> TournamentReport:
    """Round robin: every pair plays ``games`` games, colours alternated; resumable."""
    if len(agents) < 2:
        raise ValueError("a tournament needs at least two agents.")
    true_reward = [a.name for a in agents if a.search_reward == "true"]
    if true_reward:
        raise ValueError(
            f"{', '.join(true_reward)} searched on the true reward (search_reward=true): such agents are never "
            "rated with others. In a game the rules are the reward, so search_reward makes no difference there: "
            "drop the option.")
    store = open_store(store)
    jobs = plan_games(agents, env, games, seed, name)
    done = store.done_matches(env.key)

    def is_stored(job: dict) -> bool:
        key = (AgentSpec.from_json(job["first"]).config_hash, AgentSpec.from_json(job["second"]).config_hash, job["seed"])
        return key in done

    return run_missing(jobs, is_stored, play_game, store.add_match, lambda row: f"{row['error']}\n{row['traceback']}",
                       f"tournament on {env.name} ({{skipped}} already stored)", backend, workers, ray_address,
                       progress, console, report=TournamentReport())
