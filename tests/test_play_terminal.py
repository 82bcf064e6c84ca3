"""The terminal player: a scripted person plays, with help, a typo, undo and quit."""

from __future__ import annotations

import io
import re

from rich.console import Console

from palaestra.play.terminal import play_terminal
from palaestra.recordings import load

PROMPT = "your action>"


def scripted(buf, script, again="n"):
    def input_fn(prompt):
        buf.write(prompt + "\n")  # the prompt on screen, as a terminal shows it
        if script:
            return script.pop(0)
        if "again" in prompt:
            return again
        # then always the first legal move shown on screen
        return re.findall(r"legal: (.*)", buf.getvalue())[-1].split()[0]

    return input_fn


def piped():
    """A console as when the output is piped: no colour, no terminal."""
    buf = io.StringIO()
    return buf, Console(file=buf, width=100)


def turns(out: str) -> list[str]:
    """The screen between two action prompts."""
    return out.split(PROMPT)[:-1]


def test_terminal_play_records_the_final_line_of_play(tmp_path):
    buf, console = piped()
    script = ["help", "9", "undo", "3", "undo", "4"]
    results = play_terminal("palaestra/ConnectFour-v0", name="tester", record_to=tmp_path,
                            input_fn=scripted(buf, script), console=console,
                            env_kwargs={"agent_player": 0})
    out = buf.getvalue()
    assert "Action format" in out and "undo" in out  # help shown
    assert "not accepted: column 9 does not exist" in out  # a typo costs no step
    assert "nothing to undo" in out and "undone" in out
    assert out.count("Win the game of connect four") >= 3  # the goal is shown every turn
    (ep,) = load(tmp_path)
    assert ep.agent == "human:tester" and ep.seed == 0
    assert ep.actions[0] == "4"  # "3" was undone: the recording keeps the final line of play
    assert ep.success == results[0]["success"] and ep.steps[-1].terminated
    assert all(not s.info.get("invalid_action") for s in ep.steps)


def test_each_turn_shows_board_goal_and_legal_moves_once(tmp_path):
    buf, console = piped()
    play_terminal("palaestra/Chess-v0", record_to=None, input_fn=scripted(buf, ["e2e4", "quit"]),
                  console=console, env_kwargs={"agent_player": 0})
    screens = turns(buf.getvalue())
    assert len(screens) == 2
    for screen in screens:
        assert screen.count("Win the game of chess") == 1, screen
        assert screen.count("legal:") == 1 and "Legal moves" not in screen, screen
        assert len(re.findall(r"^│ 8 ", screen, re.M)) == 1, screen  # one board, drawn
        assert "FEN" not in screen  # no second, textual board
        assert len(screen.strip().splitlines()) <= 20, screen  # was about 35 lines per move


def test_chess_board_is_seen_from_blacks_side_when_the_person_plays_black():
    for side, top, files in ((0, "8", "a b c d e f g h"), (1, "1", "h g f e d c b a")):
        buf, console = piped()
        play_terminal("palaestra/Chess-v0", record_to=None, input_fn=scripted(buf, ["quit"]),
                      console=console, env_kwargs={"agent_player": side})
        screen = turns(buf.getvalue())[0]
        rows = re.findall(r"^│ ([1-8]) ", screen, re.M)
        assert rows[0] == top and len(rows) == 8, screen
        assert files in screen
        assert ("you play Black" if side else "you play White") in screen


def test_connect_four_discs_are_different_glyphs_when_piped():
    buf, console = piped()
    play_terminal("palaestra/ConnectFour-v0", record_to=None, input_fn=scripted(buf, ["4", "quit"]),
                  console=console, env_kwargs={"agent_player": 0})
    out = buf.getvalue()
    assert "\x1b[" not in out  # piped: no colour codes, so only the glyphs tell the sides apart
    board = turns(out)[1]
    assert board.count("●") == 1 and board.count("○") == 1, board  # my disc and the reply


def test_play_again_accepts_yes_no_and_reasks_on_anything_else(tmp_path):
    def play(answers):
        buf, console = piped()
        answers = list(answers)
        script_input = scripted(buf, [])

        def input_fn(prompt):
            if "again" in prompt:
                buf.write(prompt + "\n")
                return answers.pop(0)
            return script_input(prompt)

        res = play_terminal("palaestra/ConnectFour-v0", record_to=None, input_fn=input_fn, console=console,
                            env_kwargs={"agent_player": 0})
        return res, buf.getvalue()

    res, out = play(["maybe", "n"])
    assert len(res) == 1 and out.count("play again?") == 2 and "answer y (or Enter)" in out
    res, _ = play(["", "q"])  # Enter: another episode; q stops
    assert len(res) == 2 and [r["seed"] for r in res] == [0, 1]
    res, _ = play(["yes", "no"])
    assert len(res) == 2


def test_quit_says_what_was_and_was_not_recorded(tmp_path):
    buf, console = piped()
    results = play_terminal("palaestra/ConnectFour-v0", record_to=tmp_path,
                            input_fn=scripted(buf, ["4", "quit"]), console=console)
    out = buf.getvalue()
    assert results == [] and list(load(tmp_path)) == []
    assert "the episode in flight (seed 0, 1 step(s)) is not recorded" in out
    assert f"nothing recorded in {tmp_path}" in out.replace("\n", "")
    # one finished game, then quit in the second: the first is recorded and said so
    buf, console = piped()
    script = []
    base = scripted(buf, script, again="y")
    state = {"games": 0}

    def input_fn(prompt):
        if "again" in prompt:
            state["games"] += 1
        if state["games"] >= 1 and "again" not in prompt:
            return "quit"
        return base(prompt)

    results = play_terminal("palaestra/ConnectFour-v0", record_to=tmp_path / "two", input_fn=input_fn,
                            console=console, env_kwargs={"agent_player": 0})
    out = " ".join(buf.getvalue().split())
    assert len(results) == 1 and len(list(load(tmp_path / "two"))) == 1
    assert "the episode in flight (seed 1, 0 step(s)) is not recorded" in out
    assert "recorded 1 episode(s) (seeds 0)" in out


def test_step_count_shown_after_undo_equals_the_recording(tmp_path):
    buf, console = piped()
    script = ["1", "undo", "2", "undo", "3"]  # two undone moves
    results = play_terminal("palaestra/ConnectFour-v0", record_to=tmp_path, input_fn=scripted(buf, script),
                            console=console, env_kwargs={"agent_player": 0})
    (ep,) = load(tmp_path)
    shown = int(re.findall(r"in (\d+) steps", buf.getvalue())[-1])
    assert shown == ep.length == results[0]["steps"]
    assert results[0]["return"] == ep.return_


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
    # playing again into the same folder continues after the seeds it holds
    res = CliRunner().invoke(app, ["play", "palaestra/ConnectFour-v0", "--name", "cli", "--out", str(tmp_path),
                                   "--env-opt", "agent_player=0"], input=moves, env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "already holds 1 episode(s), seeds 0: continuing from seed 1" in " ".join(res.output.split())
    assert sorted(e.seed for e in load(tmp_path)) == [0, 1]
    res = CliRunner().invoke(app, ["play", "palaestra/ConnectFour-v0", "--no-record"], input="quit\n")
    assert res.exit_code == 0 and "nothing recorded (--no-record)" in res.output
