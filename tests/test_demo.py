"""`palaestra demo`: every domain, recorded, a leaderboard, on two screens."""

import json
import subprocess
import sys
from pathlib import Path


def test_demo_tours_every_domain(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "palaestra.cli", "demo", "--out", str(out), "--games", "4"],
                          capture_output=True, text=True, timeout=300, env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"})
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text
    lines = text.splitlines()
    assert len(lines) < 120, f"{len(lines)} lines"
    for part in ("1. web", "2. tool use", "3. segmentation", "4. retrieval", "5. games", "6. leaderboard", "Try next"):
        assert part in text, part
    assert "skipped" not in text and "Traceback" not in text
    assert "search[" in text  # actions are printed as the env's text, not eaten as markup
    assert "visits" in text  # the search's top moves
    folders = [p for p in out.iterdir() if (p / "episodes.jsonl").exists()]
    assert len(folders) >= 6
    for folder in folders:
        episodes = [json.loads(line) for line in (folder / "episodes.jsonl").read_text().splitlines()]
        assert episodes and all(e["steps"] for e in episodes)
    assert (out / "segmentation-overlay.png").stat().st_size > 1000
    assert Path(out / "leaderboard.sqlite").exists()
