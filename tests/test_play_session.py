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
    assert s.seed == 1 and s.steps == 0
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
