"""The HTML leaderboard, read back from a real headless Chromium page; and the CLI commands."""

import shutil

import pytest
from typer.testing import CliRunner

from palaestra.cli import app
from palaestra.leaderboard import EnvSpec, ResultStore, evaluate, parse_agents, summarize, tournament
from palaestra.leaderboard.html import CHROMIUM_ARGS, write_html
from palaestra.leaderboard.report import ENV_COLUMNS, GAME_COLUMNS, env_cells, game_cells


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = ResultStore(tmp_path_factory.mktemp("lb") / "lb.sqlite")
    evaluate(parse_agents(["random", "oracle"]), [EnvSpec("palaestra/WebShop-v0")], episodes=12, seed=0,
             store=store, workers=1, progress=False)
    tournament(parse_agents(["random", "m20=mcts[simulations=20]"]), EnvSpec("palaestra/ConnectFour-v0"), games=6,
               seed=0, store=store, workers=1, progress=False)
    return store


@pytest.mark.browser
def test_html_tables_read_back_in_chromium_match_the_store(store, tmp_path):
    from playwright.sync_api import sync_playwright

    summary = summarize(store, bootstrap=200)
    page_path = write_html(summary, tmp_path / "board.html")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(page_path.as_uri())
            tables = page.eval_on_selector_all(
                "table.leaderboard",
                """ts => ts.map(t => ({env: t.dataset.env, kind: t.classList.contains('game') ? 'game' : 'env',
                        head: [...t.querySelectorAll('thead th')].map(th => th.innerText.trim()),
                        rows: [...t.querySelectorAll('tbody tr')].map(tr =>
                              [...tr.querySelectorAll('td')].map(td => td.innerText.trim()))}))""")
            svgs = page.eval_on_selector_all(".plot svg", "els => els.map(e => e.getBoundingClientRect().height)")
            notes = page.eval_on_selector_all("ul.notes li", "els => els.map(e => e.innerText)")
        finally:
            browser.close()
    assert len(svgs) == 2 and all(h > 50 for h in svgs)  # success plot + one rating plot, drawn
    envs = [t for t in tables if t["kind"] == "env"]
    games = [t for t in tables if t["kind"] == "game"]
    assert [t["env"] for t in envs] == ["palaestra/WebShop-v0"] and len(games) == 1
    assert envs[0]["head"] == list(ENV_COLUMNS) and games[0]["head"] == list(GAME_COLUMNS)
    assert envs[0]["rows"] == [env_cells(r) for r in summary.envs[0].rows]
    assert games[0]["rows"] == [game_cells(r) for r in summary.games[0].rows]
    by_agent = {row[1]: row for row in envs[0]["rows"]}
    assert by_agent["oracle"][4] == "100.0%" and by_agent["random"][4] == "0.0%"
    assert by_agent["oracle"][0] == "1" and by_agent["random"][0] == "2"
    assert any("oracle leads on success rate" in n for n in notes)


def _flat(output: str) -> str:
    """CLI output with rich's panel borders and line wrapping undone (terminal width varies)."""
    return " ".join(output.translate({ord(c): " " for c in "│╭╮╰╯─┃━"}).split())


def test_cli_eval_tournament_leaderboard(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "cli.sqlite")
    res = runner.invoke(app, ["eval", "--agent", "random", "--agent", "oracle", "--env", "palaestra/ToolUse-v0",
                              "--episodes", "5", "--workers", "1", "--db", db])
    assert res.exit_code == 0, res.output
    assert "10 new rows" in res.output and "palaestra/ToolUse-v0" in res.output
    res = runner.invoke(app, ["eval", "--agent", "random,oracle", "--env", "palaestra/ToolUse-v0", "--episodes", "5",
                              "--workers", "1", "--db", db, "--no-show"])
    assert res.exit_code == 0 and "10 already stored, 0 new rows" in res.output, res.output
    res = runner.invoke(app, ["tournament", "--env", "palaestra/ConnectFour-v0", "--agent", "random,m5=mcts[simulations=5]",
                              "--games", "2", "--workers", "1", "--db", db])
    assert res.exit_code == 0, res.output
    assert "ratings from 2 games" in res.output
    html = tmp_path / "out.html"
    res = runner.invoke(app, ["leaderboard", "--db", db, "--html", str(html), "--bootstrap", "50"])
    assert res.exit_code == 0, res.output
    text = html.read_text()
    assert "palaestra/ToolUse-v0" in text and "<svg" in text and "m5" in text
    res = runner.invoke(app, ["eval", "--agent", "nonsense", "--env", "palaestra/ToolUse-v0", "--db", db])
    assert res.exit_code != 0 and "unknown agent" in _flat(res.output)
    res = runner.invoke(app, ["leaderboard", "--db", str(tmp_path / "missing.sqlite")])
    assert res.exit_code == 1 and "does not exist" in _flat(res.output)


def test_flat_undoes_wrapping_at_any_width():
    from rich.console import Console

    message = "Invalid value: unknown agent 'nonsense'; known agents: best-of-n, human, llm, mcts, oracle, random"
    for width in (30, 50, 80):
        console = Console(width=width, record=True, file=open("/dev/null", "w"))
        from rich.panel import Panel

        console.print(Panel(message, title="Error"))
        text = console.export_text()
        assert "unknown agent 'nonsense'" in _flat(text), width


def _row(agent, spec, seed, success, env="palaestra/ToolUse-v0"):
    from palaestra.leaderboard.spec import AgentSpec, env_key

    s = AgentSpec.parse(spec)
    return {"agent": agent, "agent_spec": s.to_json(), "config_hash": s.config_hash, "env_id": env,
            "env_kwargs": "{}", "env_hash": env_key(env, {}), "seed": seed, "ret": float(success),
            "success": success, "steps": 3, "tokens": 0, "wall_s": 0.1}


def test_true_reward_searchers_are_never_ranked_with_fair_agents():
    from palaestra.leaderboard.report import Summary, env_boards, footnotes

    rows = [_row("fair", "mcts[simulations=5]", i, True) for i in range(10)]
    rows += [_row("peek", "mcts[simulations=5,search_reward=true]", i, True) for i in range(10)]
    rows += [_row("random", "random", i, False) for i in range(10)]
    boards = env_boards(rows, resamples=100)
    assert len(boards) == 2
    fair, peek = boards
    assert {r.agent for r in fair.rows} == {"fair", "random"} and fair.search_reward == "agent"
    assert [r.agent for r in peek.rows] == ["peek"] and peek.rows[0].rank == "1"
    assert "true reward" in peek.title and "true reward" not in fair.title
    lines = footnotes(Summary(boards, []))
    assert any("search_reward=true" in line for line in lines)
    assert not any("tied" in line for line in lines)  # 10 of 10 vs 0 of 10: not tied
    assert any(line.startswith("config: a hash") for line in lines)
    lines = footnotes(Summary([fair], []))
    assert not any("search_reward" in line for line in lines)


def test_tournament_refuses_true_reward_searchers(tmp_path):
    with pytest.raises(ValueError, match="never rated with others"):
        tournament(parse_agents(["random", "p=mcts[simulations=2,search_reward=true]"]),
                   EnvSpec("palaestra/ConnectFour-v0"), games=2, store=str(tmp_path / "t.sqlite"), workers=1,
                   progress=False)


def test_tie_footnote_only_when_tied_and_grammar():
    from palaestra.leaderboard.html import render_html
    from palaestra.leaderboard.report import Summary, env_boards, footnotes, plural

    rows = [_row("a", "random", i, True) for i in range(20)] + [_row("b", "oracle", i, False) for i in range(20)]
    summary = Summary(env_boards(rows, resamples=100), [])
    assert [r.rank for r in summary.envs[0].rows] == ["1", "2"]
    assert not any("tied" in line for line in footnotes(summary))
    page = render_html(summary, plots=False)
    assert "40 episodes on 1 env board." in page and "tied" not in page and "boards" not in page
    rows = [_row("a", "random", i, i < 3) for i in range(5)] + [_row("b", "oracle", i, i < 2) for i in range(5)]
    summary = Summary(env_boards(rows, resamples=100), [])
    assert [r.rank for r in summary.envs[0].rows] == ["1=", "1="]
    assert any("tied" in line for line in footnotes(summary))
    assert (plural(1, "board"), plural(18, "game"), plural(0, "game")) == ("1 board", "18 games", "0 games")


def test_eval_interrupted_says_how_to_resume(tmp_path, monkeypatch):
    import palaestra.leaderboard.runner as runner_mod

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner_mod, "evaluate", interrupted)
    db = str(tmp_path / "i.sqlite")
    res = CliRunner().invoke(app, ["eval", "--agent", "random", "--env", "palaestra/ToolUse-v0", "--db", db])
    assert res.exit_code == 130
    assert "Interrupted" in res.output and "rerun the same command to resume" in _flat(res.output)
