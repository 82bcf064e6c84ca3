import pytest

from palaestra.testing import check_env_contract

CASES = [
    ("palaestra/ConnectFour-v0", {}, ["column 8", "0", "8", "4.5", "c4", "col -1"]),
    ("palaestra/Hex-v0", {"board_size": 7}, ["h1", "a8", "a0", "c", "c55", "swap", "11c"]),
    ("palaestra/Hex-v0", {"board_size": 5, "swap": True}, ["swap!", "f1", "a6"]),
    ("palaestra/Chess-v0", {}, ["e2e9", "e2e5", "Nf4", "O-O", "e1g1", "Ke2", "a7a8q"]),
    ("palaestra/Chess960-v0", {}, ["e2e9", "O-O-O", "Qh5#", "z9z9"]),
]


@pytest.mark.parametrize("env_id,kwargs,misses", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_contract(env_id, kwargs, misses):
    report = check_env_contract(env_id, near_misses=misses, **kwargs)
    assert report.fuzz_examples >= 1000
    assert "snapshot round trip" in report.checks


@pytest.mark.parametrize("env_id", ["palaestra/ConnectFour-v0", "palaestra/Chess-v0"])
def test_self_play_contract(env_id):
    check_env_contract(env_id, opponent=None, fuzz_examples=200)
