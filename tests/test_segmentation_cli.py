"""``palaestra seg-eval`` prints the NoC table."""

from typer.testing import CliRunner

from palaestra.cli import app


def test_seg_eval_prints_noc_table():
    result = CliRunner().invoke(app, ["seg-eval", "--backend", "watershed", "--n", "3", "--max-clicks", "5"])
    assert result.exit_code == 0, result.output
    assert "NoC@85" in result.output and "watershed" in result.output
