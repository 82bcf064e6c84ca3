"""The terminal player: a scripted person plays Connect Four, with help, a typo and undo."""

from __future__ import annotations

import io
import re

from rich.console import Console

from palaestra.play.terminal import play_terminal
from palaestra.recordings import load


def scripted(buf, script):
    def input_fn(prompt):
        if script:
            return script.pop(0)
        if "again" in prompt:
            return "n"
        # then always the first legal move shown on screen
        return re.findall(r"legal: (.*)", buf.getvalue())[-1].split()[0]

    return input_fn


def test_terminal_play_records_the_final_line_of_play(tmp_path):
    buf = io.StringIO()
    script = ["help", "9", "undo", "3", "undo", "4"]
    results = play_terminal("palaestra/ConnectFour-v0", name="tester", record_to=tmp_path,
                            input_fn=scripted(buf, script), console=Console(file=buf, width=100),
                            env_kwargs={"agent_player": 0})
    out = buf.getvalue()
    assert "Action format" in out and "undo" in out  # help shown
    assert "not accepted: column 9 does not exist" in out  # a typo costs no step
    assert "nothing to undo" in out and "undone" in out
    assert out.count("Win the game of connect four") >= 3  # the goal is shown every turn
    (ep,) = load(tmp_path)
    assert ep.agent == "human:tester" and ep.seed == 0
    assert ep.actions[0] == "4"  # "3" was undone: the recording keeps the final line of play
    assert ep.success == results[0].success and ep.steps[-1].terminated
    assert all(not s.info.get("invalid_action") for s in ep.steps)


def test_quit_records_nothing(tmp_path):
    buf = io.StringIO()
    results = play_terminal("palaestra/ConnectFour-v0", record_to=tmp_path,
                            input_fn=scripted(buf, ["4", "quit"]), console=Console(file=buf))
    assert results == [] and list(load(tmp_path)) == []


def test_cli_play_reads_stdin_and_records(tmp_path):
    from typer.testing import CliRunner

    from palaestra.cli import app

    moves = "help\n" + "1\n2\n3\n4\n5\n6\n7\n" * 7 + "n\n"
    res = CliRunner().invoke(app, ["play", "palaestra/ConnectFour-v0", "--name", "cli", "--out", str(tmp_path),
                                   "--env-opt", "agent_player=0"], input=moves)
    assert res.exit_code == 0, res.output
    (ep,) = load(tmp_path)
    assert ep.agent == "human:cli" and ep.steps[-1].terminated
    assert "recorded 1 episode" in res.output
    res = CliRunner().invoke(app, ["play", "palaestra/ConnectFour-v0", "--no-record"], input="quit\n")
    assert res.exit_code == 0 and "recorded" not in res.output
