"""Every code block of the README runs as written.

Python blocks run in a fresh interpreter each; shell blocks run their ``palaestra ...``
lines (``make`` lines are the set-up this very suite runs under; lines marked
``# interactive`` wait for a person, so only their ``-h`` is checked). A block fenced
as ``text`` or ``console`` is output, not code.
"""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def _blocks(lang: str) -> list[tuple[int, str]]:
    text = README.read_text()
    out = []
    for m in BLOCK.finditer(text):
        if m.group(1) == lang:
            out.append((text[: m.start()].count("\n") + 1, m.group(2)))
    return out


def _shell_lines() -> list[tuple[int, str, bool]]:
    lines = []
    for start, body in _blocks("bash"):
        for i, line in enumerate(body.splitlines()):
            code = line.split(" #", 1)[0].strip()
            if code.startswith("palaestra "):
                lines.append((start + i + 1, code, "# interactive" in line))
    return lines


def test_readme_has_code():
    assert len(_blocks("python")) >= 3 and len(_shell_lines()) >= 5


@pytest.mark.parametrize("line, code", _blocks("python"), ids=lambda v: f"L{v}" if isinstance(v, int) else None)
def test_python_block_runs(line, code, tmp_path):
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env={"PATH": "/usr/bin:/bin:/usr/games", "HOME": str(Path.home()), "COLUMNS": "120",
                               "PYTHONPATH": str(README.parent)})
    assert proc.returncode == 0, f"README line {line}:\n{code}\n--- stderr:\n{proc.stderr[-3000:]}"


@pytest.fixture(scope="module")
def shell_dir(tmp_path_factory):
    """One folder for every shell line, in README order (a line may use what one above made)."""
    return tmp_path_factory.mktemp("readme-shell")


@pytest.mark.parametrize("line, code, interactive", _shell_lines(), ids=lambda v: f"L{v}" if isinstance(v, int) else None)
def test_shell_line_runs(line, code, interactive, shell_dir):
    argv = shlex.split(code)
    if interactive:
        argv = argv[:2] + ["-h"]
    proc = subprocess.run([sys.executable, "-m", "palaestra.cli", *argv[1:]], cwd=shell_dir, capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL,
                          env={"PATH": "/usr/bin:/bin:/usr/games", "HOME": str(Path.home()), "COLUMNS": "120",
                               "PYTHONPATH": str(README.parent)})
    assert proc.returncode == 0, f"README line {line}: {code}\n--- output:\n{(proc.stdout + proc.stderr)[-3000:]}"
