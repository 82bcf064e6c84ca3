"""PlaySession (the web page's back end) without a browser: undo, refusals, every env kind."""

from __future__ import annotations

import json

from palaestra.play.session import PlaySession
from palaestra.recordings import load


def test_undo_and_refusals_and_recording(tmp_path):
    s = PlaySession("palaestra/ConnectFour-v0", name="t", record_to=tmp_path, env_kwargs={"agent_player": 0})
    start = s.state()
    assert start["legal"] == list("1234567") and start["board"]["game"] == "connect_four"
    assert "does not exist" in s.act("9")["message"] and s.steps == 0  # refused before any step
    s.act("1")
    after = s.undo()
    assert after["steps"] == 0 and after["board"]["cells"] == start["board"]["cells"]
    assert after["observation"] == start["observation"]
    assert s.undo()["message"] == "Nothing to undo."
    while not s.done:
        s.act(s.state()["legal"][0])
    assert "recorded" in s.undo()["message"] and s.done  # a recorded episode stays as it was
    s.next_episode()
    assert s.seed == 1 and s.steps == 0 and s.state()["message"] == ""
    s.act("4")
    assert s.new_episode(5)["message"] == "The unfinished episode (seed 1, 1 step(s)) was not recorded."
    s.close()
    (ep,) = load(tmp_path)
    assert ep.actions[0] == "1" and ep.length == len(ep.steps)
    assert json.loads(json.dumps(s.state()))  # the state is JSON for the page


def test_segmentation_clicks_use_the_envs_own_coordinate_order(tmp_path):
    for coords, expect in (("xy", "Positive point: (250, 750)"), ("segagent", "Positive point: (750, 250)")):
        s = PlaySession("palaestra/Segmentation-v0", env_kwargs={"coords": coords, "terminate_on_success": False})
        state = s.click_image(0.25, 0.75, positive=True)  # a quarter across, three quarters down
        assert state["observation"].count(expect) == 1, state["observation"][:300]
        assert s.click_image(0.9, 0.1, positive=False)["steps"] == 2
        s.close()


def test_end_of_a_game_says_how_it_ended():
    from palaestra.play.boards import four_in_a_row, game_view

    def chess(fen, outcome=None, truncated=False):
        ui = {"game": "chess", "cells": [[""] * 8] * 8, "fen": fen, "agent_player": 0, "to_play": 0, "over": True}
        return game_view(ui, outcome=outcome, truncated=truncated)["end"]

    assert chess("7k/5Q2/6K1/8/8/8/8/8 b - - 0 1", "draw") == "Stalemate: a draw. Nobody won."
    assert chess("3R2k1/5ppp/8/8/8/8/8/6K1 b - - 1 1", "win") == "Checkmate: White wins. You won."
    assert chess("8/8/4k3/8/8/3K4/8/8 w - - 0 80", "draw").startswith("Draw by insufficient material")
    assert chess("8/8/4k3/8/3r4/3K4/8/8 w - - 100 80", "draw").startswith("Draw by the fifty-move rule")
    assert chess("8/8/4k3/8/3r4/3K4/8/8 w - - 3 80", "draw").startswith("Draw by threefold repetition")
    assert chess("8/8/4k3/8/3r4/3K4/8/8 w - - 3 80", None, truncated=True).startswith("Stopped at the move limit")
    full = [list("xoxoxox") if (r // 2) % 2 == 0 else list("oxoxoxo") for r in range(6)]  # a drawn board
    assert four_in_a_row(full) == []
    ui = {"game": "connect_four", "cells": full, "agent_player": 1, "to_play": 0, "over": True}
    assert game_view(ui, outcome="draw")["end"] == "The board is full: a draw. Nobody won."
    full[2][3] = full[3][3] = full[4][3] = full[5][3] = "o"  # a column of four
    view = game_view(dict(ui, cells=full), outcome="win")
    assert view["end"] == "Four in a row: second (o) wins. You won." and [2, 3] in view["winning"]
    assert view["you"] == "second (o)" and not view["flip"]
