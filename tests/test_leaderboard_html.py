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
    res = runner.invoke(app, ["tournament", "--env", "palaestra/ConnectFour-v0", "--agents", "random,m5=mcts[simulations=5]",
                              "--games", "2", "--workers", "1", "--db", db])
    assert res.exit_code == 0, res.output
    assert "ratings from 2 games" in res.output
    html = tmp_path / "out.html"
    res = runner.invoke(app, ["leaderboard", "--db", db, "--html", str(html), "--bootstrap", "50"])
    assert res.exit_code == 0, res.output
    text = html.read_text()
    assert "palaestra/ToolUse-v0" in text and "<svg" in text and "m5" in text
    res = runner.invoke(app, ["eval", "--agent", "nonsense", "--env", "palaestra/ToolUse-v0", "--db", db])
    assert res.exit_code != 0 and "unknown agent" in res.output
    res = runner.invoke(app, ["leaderboard", "--db", str(tmp_path / "missing.sqlite")])
    assert res.exit_code == 1 and "does not exist" in res.output
