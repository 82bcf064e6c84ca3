import gymnasium as gym
from typer.testing import CliRunner

import palaestra
from palaestra.cli import app
from palaestra.core import FreeText


def test_import_registers_every_id():
    assert "palaestra/ConnectFour-v0" in palaestra.ENV_IDS
    for env_id in palaestra.ENV_IDS:
        assert env_id in gym.registry


def test_invalid_text_leaves_state_and_truncates_after_max_invalid():
    env = gym.make("palaestra/ConnectFour-v0", text=True, max_invalid=3, agent_player=0)
    obs, info = env.reset(seed=0)
    before = env.unwrapped.render_text()
    for i in range(3):
        obs, reward, term, trunc, info = env.step("column 9")
        assert obs.startswith("Invalid action:") and "columns are 1-7" in info["invalid_action"]
        assert env.unwrapped.render_text() == before and reward == 0.0 and not term
        assert trunc == (i == 2)
    assert info["success"] is False
    # a valid action resets the count
    env.reset(seed=0)
    env.step("nope")
    obs, _, _, trunc, info = env.step("4")
    assert "invalid_action" not in info and not trunc


def test_text_spaces_hold_any_string():
    space = FreeText(100)
    assert space.contains("♞ e2e4 {json} ü") and not space.contains(3) and not space.contains("x" * 101)


def test_cli_list_and_run():
    runner = CliRunner()
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    assert "palaestra/Chess960-v0" in result.output
    result = runner.invoke(app, ["run", "palaestra/ConnectFour-v0", "--agent", "random", "--episodes", "3"])
    assert result.exit_code == 0, result.output
    assert "mean return" in result.output
    result = runner.invoke(app, ["run", "palaestra/Nope-v0"])
    assert result.exit_code != 0
