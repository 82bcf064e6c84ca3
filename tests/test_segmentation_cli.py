"""``palaestra seg-eval`` prints the NoC table."""

from typer.testing import CliRunner

from palaestra.cli import app


def test_seg_eval_prints_noc_table():
    result = CliRunner().invoke(app, ["seg-eval", "--backend", "watershed", "--n", "3", "--max-clicks", "5"])
    assert result.exit_code == 0, result.output
    assert "NoC@85" in result.output and "watershed" in result.output
    assert "cIoU@5" in result.output and "gIoU@1" in result.output and "at 160x160" in result.output


def test_seg_eval_size_option_and_clean_errors():
    runner = CliRunner()
    result = runner.invoke(app, ["seg-eval", "--backend", "graphcut", "--n", "2", "--max-clicks", "3", "--size", "96x128"])
    assert result.exit_code == 0 and "at 96x128" in result.output, result.output
    for args, says in ((["--backend", "graphcutt"], "unknown back-end"), (["--size", "4000x4000"], "8..1000"),
                       (["--size", "big"], "HEIGHTxWIDTH"), (["--source", "nope"], "synthetic")):
        result = runner.invoke(app, ["seg-eval", "--n", "1", *args])
        assert result.exit_code == 2 and says in result.output and "Traceback" not in result.output, result.output


def test_env_seg_eval_and_benchmark_share_one_resolution():
    import importlib.util
    from pathlib import Path

    import gymnasium as gym

    import palaestra  # noqa: F401
    from palaestra.cli.segmentation import DEFAULT_SIZE
    from palaestra.envs.segmentation.sample import DEFAULT_IMAGE_SIZE, parse_size

    env = gym.make("palaestra/Segmentation-v0", source="skimage")
    assert env.observation_space["image"].shape[:2] == DEFAULT_IMAGE_SIZE == parse_size(DEFAULT_SIZE)
    spec = importlib.util.spec_from_file_location(
        "seg_bench", Path(__file__).resolve().parent.parent / "benchmarks" / "segmentation.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.DEFAULT_IMAGE_SIZE is DEFAULT_IMAGE_SIZE
    # a table says at which size it was measured
    result = CliRunner().invoke(app, ["seg-eval", "--source", "skimage", "--n", "1", "--max-clicks", "2"])
    assert result.exit_code == 0 and "at 160x160" in result.output, result.output
