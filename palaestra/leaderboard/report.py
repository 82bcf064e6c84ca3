"""Leaderboard summaries from the store: per env, per agent configuration; ratings per game.

``summarize(store)`` returns plain dataclasses that the terminal table (rich) and the
HTML page both render, so the two always show the same numbers.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field

from .ratings import BTRating, Game, SkillRating, bradley_terry, openskill_ratings
from .spec import search_reward_of
from .stats import Ranked, any_tied, bootstrap_mean_ci, overlap_notes, rank_with_ties, wilson
from .store import ResultStore


@dataclass
class AgentRow:
    agent: str
    config_hash: str
    spec: str
    episodes: int
    successes: int
    success: float
    success_ci: tuple[float, float]
    mean_return: float
    return_ci: tuple[float, float]
    mean_steps: float
    tokens: float  # mean tokens per episode
    wall_s: float  # mean seconds per episode
    rank: str = ""


def env_title(env_id: str, env_kwargs: dict) -> str:
    """An env id with its kwargs, as boards are headed."""
    if not env_kwargs:
        return env_id
    return f"{env_id} " + " ".join(f"{k}={json.dumps(v)}" for k, v in sorted(env_kwargs.items()))


#: how a board of agents that searched on the true reward is headed
TRUE_REWARD_TITLE = "search on the true reward (data collection; not ranked with fair agents)"


@dataclass
class EnvBoard:
    env_id: str
    env_kwargs: dict
    env_hash: str
    rows: list[AgentRow]
    notes: list[str] = field(default_factory=list)
    #: "true" for the board of agents whose search read the scorer's reward
    #: (``search_reward="true"``): they are never ranked with the others
    search_reward: str = "agent"

    @property
    def title(self) -> str:
        title = env_title(self.env_id, self.env_kwargs)
        return f"{title}: {TRUE_REWARD_TITLE}" if self.search_reward == "true" else title


@dataclass
class RatingRow:
    agent: str
    config_hash: str
    games: int
    score: float  # points per game
    mu: float
    sigma: float
    conservative: float
    bt: float
    bt_ci: tuple[float, float]
    rank: str = ""


@dataclass
class GameBoard:
    env_id: str
    env_kwargs: dict
    env_hash: str
    rows: list[RatingRow]
    games: int
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return env_title(self.env_id, self.env_kwargs)


@dataclass
class Summary:
    envs: list[EnvBoard]
    games: list[GameBoard]


def _labels(rows: list[dict], key: str = "config_hash", label: str = "agent") -> dict[str, str]:
    out = {}
    for r in rows:  # the latest label wins
        out[r[key]] = r[label]
    # a label used by two configurations gets the hash appended, so rows never look alike
    seen = defaultdict(list)
    for h, name in out.items():
        seen[name].append(h)
    for name, hashes in seen.items():
        if len(hashes) > 1:
            for h in hashes:
                out[h] = f"{name} ({h[:6]})"
    return out


def env_boards(episodes: list[dict], resamples: int = 2000, seed: int = 0) -> list[EnvBoard]:
    """One board per env configuration; agents that searched on the true reward
    (``search_reward="true"``, e.g. collecting training data) get a board of their own,
    so they are never ranked with agents that played fair."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for e in episodes:
        groups[(e["env_hash"], search_reward_of(e["agent_spec"]))].append(e)
    boards = []
    for (env_hash, search_reward), eps in groups.items():
        labels = _labels(eps)
        per_agent: dict[str, list[dict]] = defaultdict(list)
        for e in eps:
            per_agent[e["config_hash"]].append(e)
        rows = []
        for h, items in per_agent.items():
            n = len(items)
            k = sum(int(e["success"]) for e in items)
            rets = [float(e["ret"]) for e in items]
            rows.append(AgentRow(
                agent=labels[h], config_hash=h, spec=items[-1]["agent_spec"], episodes=n, successes=k,
                success=k / n, success_ci=wilson(k, n), mean_return=sum(rets) / n,
                return_ci=bootstrap_mean_ci(rets, reps=resamples, seed=seed),
                mean_steps=sum(int(e["steps"]) for e in items) / n,
                tokens=sum(int(e["tokens"]) for e in items) / n, wall_s=sum(float(e["wall_s"]) for e in items) / n,
            ))
        ranked = rank_with_ties([Ranked(r.agent, r.success, r.success_ci) for r in rows])
        order = {r.name: i for i, r in enumerate(ranked)}
        ranks = {r.name: r.rank for r in ranked}
        for r in rows:
            r.rank = ranks[r.agent]
        rows.sort(key=lambda r: (order[r.agent], -r.mean_return))
        notes = overlap_notes([Ranked(r.agent, r.success, r.success_ci) for r in rows], "success rate")
        if len(rows) >= 2 and all(r.success == rows[0].success for r in rows):
            ret_items = [Ranked(r.agent, r.mean_return, r.return_ci) for r in rows]
            notes += overlap_notes(ret_items, "mean return")
        seeds = {h: {int(e["seed"]) for e in items} for h, items in per_agent.items()}
        if len({frozenset(s) for s in seeds.values()}) > 1:
            notes.append("Agents were run on different seed sets; compare with care (rerun eval with the same "
                         "--episodes and --seed for all).")
        first = eps[0]
        boards.append(EnvBoard(first["env_id"], json.loads(first["env_kwargs"]), env_hash, rows, notes,
                               search_reward=search_reward))
    boards.sort(key=lambda b: (b.env_id, b.search_reward == "true", b.title))
    return boards


def game_boards(matches: list[dict], bootstrap: int = 500, seed: int = 0) -> list[GameBoard]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for m in matches:
        groups[m["env_hash"]].append(m)
    boards = []
    for env_hash, ms in groups.items():
        labels: dict[str, str] = {}
        for m in ms:
            labels[m["first"]] = m["first_agent"]
            labels[m["second"]] = m["second_agent"]
        games = [Game(m["first"], m["second"], float(m["score"])) for m in ms]
        skill: dict[str, SkillRating] = openskill_ratings(games)
        bt: dict[str, BTRating] = bradley_terry(games, bootstrap=bootstrap, seed=seed)
        rows = []
        for h in skill:
            s, b = skill[h], bt[h]
            rows.append(RatingRow(labels[h], h, s.games, b.score, s.mu, s.sigma, s.conservative, b.elo, (b.low, b.high)))
        ranked = rank_with_ties([Ranked(r.agent, r.bt, r.bt_ci) for r in rows])
        ranks = {r.name: r.rank for r in ranked}
        for r in rows:
            r.rank = ranks[r.agent]
        rows.sort(key=lambda r: -r.conservative)
        notes = overlap_notes([Ranked(r.agent, r.bt, r.bt_ci) for r in rows], "Bradley-Terry rating", "games")
        by_bt = sorted(rows, key=lambda r: -r.bt)
        if [r.agent for r in by_bt] != [r.agent for r in rows]:
            notes.append("OpenSkill (order of play) and Bradley-Terry (order-free) rank the agents differently; "
                         "trust the order-free view, and play more games.")
        first = ms[0]
        boards.append(GameBoard(first["env_id"], json.loads(first["env_kwargs"]), env_hash, rows, len(ms), notes))
    boards.sort(key=lambda b: (b.env_id, b.title))
    return boards


def summarize(store: ResultStore, env_ids: list[str] | None = None, resamples: int = 2000, bootstrap: int = 500,
              seed: int = 0) -> Summary:
    episodes = store.episodes()
    matches = store.matches()
    if env_ids:
        episodes = [e for e in episodes if e["env_id"] in env_ids]
        matches = [m for m in matches if m["env_id"] in env_ids]
    return Summary(env_boards(episodes, resamples, seed), game_boards(matches, bootstrap, seed))


# ---- formatting shared by the terminal and the page -------------------------------------
def plural(n: int, word: str) -> str:
    """``"1 board"``, ``"18 games"``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def ci_pct(ci: tuple[float, float]) -> str:
    return f"[{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"


def num(x: float, digits: int = 3) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def ci_num(ci: tuple[float, float], digits: int = 3) -> str:
    if any(not math.isfinite(v) for v in ci):
        return "—"
    return f"[{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


# the page: one value per cell (easy to read back); the terminal: value and interval together
ENV_COLUMNS = ("rank", "agent", "config", "episodes", "success", "95% Wilson", "mean return", "95% bootstrap",
               "mean steps", "tokens/ep", "s/ep")
GAME_COLUMNS = ("rank", "agent", "config", "games", "score", "mu", "sigma", "mu - 3 sigma", "Bradley-Terry",
                "95% bootstrap")
TERM_ENV_COLUMNS = ("rank", "agent", "config", "n", "success 95% CI", "return 95% CI", "steps", "tokens", "s/ep")
TERM_GAME_COLUMNS = ("rank", "agent", "games", "score", "mu ± σ", "mu-3σ", "BT Elo [95% CI]")
NARROW_DROP = ("config", "s/ep", "tokens")  # left out of the terminal table below 110 columns


def _elo(x: float) -> str:
    return f"{int(round(x)):+d}" if math.isfinite(x) else "—"


def env_cells(r: AgentRow) -> list[str]:
    return [r.rank, r.agent, r.config_hash[:8], str(r.episodes), pct(r.success), ci_pct(r.success_ci),
            num(r.mean_return), ci_num(r.return_ci), f"{r.mean_steps:.1f}", f"{r.tokens:.0f}", f"{r.wall_s:.3f}"]


def game_cells(r: RatingRow) -> list[str]:
    return [r.rank, r.agent, r.config_hash[:8], str(r.games), f"{r.score:.2f}", f"{r.mu:.2f}", f"{r.sigma:.2f}",
            f"{r.conservative:.2f}", _elo(r.bt), ci_num(r.bt_ci, 0)]


def term_env_cells(r: AgentRow) -> list[str]:
    lo, hi = r.success_ci
    ret = num(r.mean_return, 2) + (" " + ci_num(r.return_ci, 2) if math.isfinite(r.return_ci[0]) else "")
    return [r.rank, r.agent, r.config_hash[:6], str(r.episodes), f"{100 * r.success:.0f}% [{100 * lo:.0f}, {100 * hi:.0f}]",
            ret, f"{r.mean_steps:.1f}", f"{r.tokens:.0f}", f"{r.wall_s:.2f}"]


def term_game_cells(r: RatingRow) -> list[str]:
    return [r.rank, r.agent, str(r.games), f"{r.score:.2f}", f"{r.mu:.1f} ± {r.sigma:.1f}", f"{r.conservative:.1f}",
            f"{_elo(r.bt)} {ci_num(r.bt_ci, 0)}"]


def print_summary(summary: Summary, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    if not summary.envs and not summary.games:
        console.print("[yellow]No results in the store yet.[/] Run [bold]palaestra eval --agent random --env "
                      "palaestra/ConnectFour-v0 --episodes 20[/] first.")
        return
    narrow = console.width < 110
    for board in summary.envs:
        table = Table(title=board.title, title_style="bold")
        keep = [i for i, col in enumerate(TERM_ENV_COLUMNS)
                if not (narrow and col in NARROW_DROP and not (col == "tokens" and any(r.tokens for r in board.rows)))]
        for i in keep:
            col = TERM_ENV_COLUMNS[i]
            table.add_column(col, justify="left" if col in ("agent", "config") else "right",
                             style="bold cyan" if col == "agent" else None, no_wrap="CI" in col or col == "rank",
                             min_width=max([len(r.agent) for r in board.rows] + [5]) if col == "agent" else None)
        for r in board.rows:
            cells = term_env_cells(r)
            table.add_row(*[cells[i] for i in keep])
        console.print(table)
        for note in board.notes:
            console.print(f"  [dim]•[/] {note}")
    for board in summary.games:
        table = Table(title=f"{board.title}: ratings from {board.games} games", title_style="bold")
        for col in TERM_GAME_COLUMNS:
            table.add_column(col, justify="left" if col in ("agent", "config") else "right",
                             style="bold cyan" if col == "agent" else None, no_wrap="CI" in col or "±" in col or col == "rank",
                             min_width=max([len(r.agent) for r in board.rows] + [5]) if col == "agent" else None)
        for r in board.rows:
            table.add_row(*term_game_cells(r))
        console.print(table)
        for note in board.notes:
            console.print(f"  [dim]•[/] {note}")
    for line in footnotes(summary, narrow):
        console.print(f"[dim]{line}[/]")


def footnotes(summary: Summary, narrow: bool = False) -> list[str]:
    """The lines under the tables: only what the tables shown need explaining."""
    lines = []
    ranks = [r.rank for b in summary.envs for r in b.rows] + [r.rank for b in summary.games for r in b.rows]
    if any_tied(ranks):
        lines.append("Rank '2=' means tied: no agent's 95% interval lies wholly above the other's; the rank counts "
                     "the agents that are clearly better.")
    if summary.envs and not narrow:
        lines.append("config: a hash of the agent and its options (not its label): runs of the same configuration "
                     "pool together, and a changed option starts a new row.")
    if any(b.search_reward == "true" for b in summary.envs):
        lines.append("Agents run with search_reward=true searched on the scorer's reward (fine for collecting "
                     "training data); their boards are separate and never ranked with fair agents.")
    if summary.games:
        lines.append("OpenSkill: Plackett-Luce, mu - 3 sigma is the conservative rating. Bradley-Terry on the Elo "
                     "scale (mean 0), order-free.")
    return lines
