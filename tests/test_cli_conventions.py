"""The command line keeps Typer's conventions and reports user mistakes in one short
message with exit status 2 (never a traceback)."""

import subprocess
import sys

import pytest


def _cli(*args, timeout=120):
    proc = subprocess.run([sys.executable, "-m", "palaestra.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin:/usr/games"})
    return proc.returncode, proc.stdout + proc.stderr


def test_version_and_short_help():
    rc, out = _cli("--version")
    assert rc == 0 and out.startswith("palaestra ")
    rc, out = _cli("run", "-h")
    assert rc == 0
    assert "Usage: " in out and " ENV_ID" in out and "{env_id}" not in out
    assert "<bool>" not in out and "<str>" not in out  # no type tags on every flag


def test_every_option_has_help():
    import typer.main

    from palaestra.cli import app

    group = typer.main.get_command(app)
    missing = []
    for name, cmd in group.commands.items():
        subs = getattr(cmd, "commands", None) or {name: cmd}
        for sub_name, sub in subs.items():
            for param in sub.params:
                if param.param_type_name == "option" and not (param.help or "").strip():
                    missing.append(f"{name} {sub_name}: {param.opts}")
    assert not missing, "options without help: " + "; ".join(missing)


@pytest.mark.parametrize("args, expect", [
    (("run", "palaestra/ConnectFour-v0", "--agent", "mctss"), "Did you mean 'mcts'"),
    (("run", "palaestra/ConnectFour-v0", "--agent", "mcts", "--agent-opt", "simulatons=50"), "Did you mean 'simulations'"),
    (("run", "palaestra/ConnectFour-v0", "--agent", "mcts", "--agent-opt", "simulations=abc"), "'abc'"),
    (("run", "palaestra/ConnectFour-v0", "--env-opt", "opponent=stokfish"), "unknown opponent 'stokfish'"),
    (("run", "palaestra/Conect4-v0"), "Did you mean 'palaestra/ConnectFour-v0'"),
    (("list", "--domain", "gamez"), "Did you mean 'games'"),
    (("tournament", "--env", "palaestra/ToolUse-v0", "--agent", "random", "--agent", "oracle"), "not a two-player game"),
    (("eval", "--agent", "random", "--agent", "mcts", "--agent-opt", "simulatons=3", "--env",
      "palaestra/ConnectFour-v0"), "has no option 'simulatons'"),
    (("eval", "--agent", "random", "--env", "palaestra/ConnectFour-v0", "--db", "/proc/none/x.sqlite"), "cannot write"),
])
def test_user_mistakes_exit_2_without_traceback(args, expect):
    rc, out = _cli(*args)
    assert rc == 2, out
    assert expect in " ".join(out.split()), out
    assert "Traceback" not in out and "─ Traceback" not in out
    assert len(out.splitlines()) <= 8, out
