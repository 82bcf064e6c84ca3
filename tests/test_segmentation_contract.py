"""The segmentation env keeps every palaestra contract (contract kit) in both coordinate orders."""

import random

from palaestra.testing import check_env_contract

NEAR_MISSES = [
    "Positive point: (1000, 5)",
    "Positive point: (5, -1)",
    "Positive point: (5)",
    "positive point (3, 4",
    "Negative point: (3.5, 4)",
    "Neutral point: (3, 4)",
    "Finish now",
    "Positive point: (12, 13), Negative point: (1, 2)",
    "Point: (10, 10)",
    "Positive points: (10, 10)",
    # lenient but valid spellings: the fuzzer must see them accepted, then the state restored
    "  positive POINT: ( 10 , 20 ) ",
    "negative point (999, 0).",
    "finish",
]


def random_clicks(env, rng: random.Random):
    """Mostly clicks anywhere (both signs), sometimes Finish: exercises more than the oracle."""
    return env.sample_action(rng)


def test_contract_oracle_plan():
    report = check_env_contract("palaestra/Segmentation-v0", near_misses=NEAR_MISSES, num_samples=20)
    assert report.fuzz_examples >= 1000
    assert "snapshot round trip" in report.checks
    assert report.fuzz_valid > 0  # some near misses are valid actions and were taken


def test_contract_random_clicks_segagent_order():
    report = check_env_contract(
        "palaestra/Segmentation-v0",
        sampler=random_clicks,
        near_misses=NEAR_MISSES,
        fuzz_examples=200,
        steps=8,
        coords="segagent",
        image_size=(96, 128),
        num_samples=20,
    )
    assert "snapshot round trip" in report.checks
