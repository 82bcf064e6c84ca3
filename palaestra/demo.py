"""``palaestra demo``: one short episode in each domain, recorded, then a small leaderboard.

It runs offline on a laptop CPU in about a minute and fits on two screens: a shop search
in text mode, a tool-use task, a segmentation episode (its overlay saved as a PNG), a
chunk selection under a token budget, and a Connect Four game with the search's top
moves and visit counts; every episode is recorded to one folder; then three agents meet
on a small leaderboard with 95% intervals. A domain whose extra is not installed is
skipped with the command that installs it.
"""

from __future__ import annotations

import datetime as _dt
import time
from pathlib import Path

from rich.console import Console


def _short(text: str, n: int = 96) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


class _Echo:
    """Forwards to an agent and prints each action it takes (the first ``limit``)."""

    def __init__(self, agent, console: Console, limit: int):
        self.agent, self.console, self.limit, self.n = agent, console, limit, 0
        self.searches: list = []

    def __getattr__(self, name):
        return getattr(self.agent, name)

    @property
    def last_search(self):
        return getattr(self.agent, "last_search", None)

    @last_search.setter
    def last_search(self, value):
        if hasattr(self.agent, "last_search"):
            self.agent.last_search = value

    def reset(self, env) -> None:
        self.env = env
        self.agent.reset(env)

    def act(self, obs, info):
        action = self.agent.act(obs, info)
        if self.last_search:
            self.searches.append(list(self.last_search))
        self.n += 1
        if self.n <= self.limit:
            text = action if isinstance(action, str) else self.env.unwrapped.format_action(action)
            self.console.print(f"  > {_short(text, 90)}", highlight=False, markup=False)
        return action


class _Demo:
    def __init__(self, out: Path, console: Console, seed: int):
        self.out, self.console, self.seed = out, console, seed
        self.recorded: list[str] = []

    def episode(self, env_id: str, agent, *, folder: str, env_kwargs=None, text=True, echo: int = 6, on_step=None):
        """One recorded episode; its first ``echo`` actions are printed as they happen."""
        import gymnasium as gym

        from palaestra.runner import run_episode
        from palaestra.wrappers import RecordEpisodes

        env = RecordEpisodes(gym.make(env_id, text=text, **(env_kwargs or {})), self.out / folder,
                             agent_name=getattr(agent, "name", "agent"), fsync=False)
        echoing = _Echo(agent, self.console, echo)
        try:
            env.reset(seed=self.seed)
            self.console.print(f"  goal: {_short(env.unwrapped.task.goal)}", highlight=False, markup=False)
            result = run_episode(env, echoing, seed=self.seed, on_step=on_step)
            if echoing.n > echo:
                self.console.print(f"  … {echoing.n - echo} more actions", style="dim")
        finally:
            env.close()
        self.recorded.append(folder)
        return env, result, echoing.searches

    def say_result(self, result, extra: str = "") -> None:
        mark = "[green]success[/]" if result.success else "[red]no success[/]"
        self.console.print(f"  → {mark}, return {result.ret:+.2f} in {result.steps} steps{extra}")


def _section(console: Console, n: int, title: str) -> None:
    console.print(f"\n[bold cyan]{n}. {title}[/]")


def _guard(console: Console, extra: str, fn) -> None:
    try:
        fn()
    except ImportError as err:
        console.print(f"  [yellow]skipped: {err}. Install with pip install 'palaestra[{extra}]'.[/]")


def run_demo(out: str | Path | None = None, seed: int = 0, simulations: int = 200, games: int = 12,
             console: Console | None = None) -> Path:
    """Run the tour; returns the folder holding the recordings, the overlay and the store."""
    import palaestra  # noqa: F401  (registers the ids)
    from palaestra.agents import make

    console = console or Console()
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    out = Path(out) if out is not None else Path("recordings") / f"demo-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    demo = _Demo(out, console, seed)
    start = time.perf_counter()
    console.rule("[bold]palaestra: five domains, one contract (gymnasium.make, a text view, snapshots)")

    def web():
        _section(console, 1, "web · palaestra/WebShop-v0, text mode (no browser) · the task's oracle")
        _, result, _ = demo.episode("palaestra/WebShop-v0", make("oracle"), folder="webshop-oracle")
        demo.say_result(result)

    def tools():
        _section(console, 2, "tool use · palaestra/ToolUse-v0 (sandboxed SQLite, calendar, units) · oracle")
        _, result, _ = demo.episode("palaestra/ToolUse-v0", make("oracle"), env_kwargs={"tier": "dependent"},
                                    folder="tooluse-oracle")
        demo.say_result(result)

    def segmentation():
        _section(console, 3, "segmentation · palaestra/Segmentation-v0 · RITM click simulator (reads the mask: a reference)")
        ious: list[float] = []

        def on_step(obs, reward, term, trunc, info):
            if "iou" in info:
                ious.append(float(info["iou"]))

        env, result, _ = demo.episode("palaestra/Segmentation-v0", make("ritm"), folder="segmentation-ritm",
                                      echo=4, on_step=on_step)
        png = _save_overlay(env, out / "segmentation-overlay.png")
        curve = " → ".join(f"{v:.2f}" for v in ious[:8])
        demo.say_result(result, (f"; IoU per step {curve}" if curve else "") + (f"\n  overlay: {png}" if png else ""))

    def retrieval():
        _section(console, 4, "retrieval · palaestra/ChunkSelection-v0 · chunks under a token budget: top-k, then the oracle")
        for name in ("topk", "oracle"):
            _, result, _ = demo.episode("palaestra/ChunkSelection-v0", make(name), folder=f"chunks-{name}", echo=4)
            tokens = result.info.get("tokens_used", result.info.get("tokens"))
            console.print(f"  {name:>6}: utility {result.ret:+.3f}" + (f", {tokens} tokens" if tokens is not None else ""))

    def game():
        _section(console, 5, f"games · palaestra/ConnectFour-v0 · MCTS ({simulations} simulations) plays first against random")
        agent = make("mcts", simulations=simulations, seed=seed)
        _, result, searches = demo.episode("palaestra/ConnectFour-v0", agent, folder="connect-four-mcts", text=False,
                                           env_kwargs={"agent_player": 0}, echo=0)
        if searches:
            console.print("  its first move: the root's most visited children")
            top = sorted(searches[0], key=lambda c: -(c.get("visits") or 0))[:3]
            most = max(1, top[0].get("visits") or 1)
            for child in top:
                visits, q = child.get("visits") or 0, child.get("q")
                bar = "#" * max(1, round(24 * visits / most))
                qs = f"q {q:+.2f}" if q is not None else "q -"
                console.print(f"    column {child['action']:>2}  {bar:<24} {visits:>4} visits  {qs}", highlight=False)
        console.print(f"  → MCTS: {result.info.get('outcome', 'played')} in {result.info.get('plies', result.steps)} plies")

    for extra, fn in (("web", web), ("tools", tools), ("segmentation", segmentation), ("retrieval", retrieval),
                      ("games", game)):
        _guard(console, extra, fn)

    _section(console, 6, f"leaderboard · Connect Four against a random opponent, {games} seeded games per agent")
    _guard(console, "leaderboard", lambda: _leaderboard(out, games, seed, console))

    console.print(f"\nRecorded to [bold]{out}[/] ({len(set(demo.recorded))} recordings) in {time.perf_counter() - start:.0f} s. Try next:")
    console.print("  palaestra play palaestra/ConnectFour-v0            # play it yourself, recorded")
    console.print(f"  palaestra recordings {out}   # what was recorded")
    console.print(f"  palaestra leaderboard --db {out / 'leaderboard.sqlite'} --html board.html")
    return out


def _echo_actions(console: Console):
    def show(env, obs, reward, info):
        action = info.get("action_text")
        if action is None:
            action = getattr(env, "last_action_text", None)
        if action:
            console.print(f"  > {_short(action, 90)}", highlight=False)
    return show


def _save_overlay(env, path: Path) -> str | None:
    try:
        from PIL import Image

        base = env.unwrapped
        img = base.render_overlay() if hasattr(base, "render_overlay") else None
        if img is None:
            from palaestra.envs.segmentation.render import overlay

            img = overlay(base.image(), getattr(base, "mask", None))
        Image.fromarray(img).save(path)
        return str(path)
    except Exception:  # noqa: BLE001 - the picture is a bonus, never a failure of the tour
        return None


def _leaderboard(out: Path, games: int, seed: int, console: Console) -> None:
    from palaestra.leaderboard.report import print_summary, summarize
    from palaestra.leaderboard.runner import EnvSpec, evaluate
    from palaestra.leaderboard.spec import parse_agents
    from palaestra.leaderboard.store import ResultStore

    store = ResultStore(out / "leaderboard.sqlite")
    specs = parse_agents(["random", "mcts10=mcts[simulations=10]", "mcts100=mcts[simulations=100]"])
    evaluate(specs, [EnvSpec("palaestra/ConnectFour-v0", {})], games, seed, store, workers=1, progress=False)
    print_summary(summarize(store, ["palaestra/ConnectFour-v0"]), console)
