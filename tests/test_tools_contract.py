"""The contract kit on the tool-use ids."""

import importlib.util

import pytest

from palaestra.testing import check_env_contract

NEAR_MISSES = [
    '{"name": "get_order", "arguments": {"order_id": 1001}',
    '{"name": "get_order", "arguments": {"order_id": "1001"}}',
    '{"name": "get_order", "arguments": {"order_id": 1001, "x": 1}}',
    '{"name": "get_orders", "arguments": {"order_id": 1001}}',
    '{"answer": 42, "extra": 1}',
    "get_order(order_id=1001",
    "get_order(1001)",
    "get_order(order_id=__import__('os'))",
    "[get_order(order_id=1001), ]]",
    '{"name": "calculator", "arguments": {"expression": "__import__(\'os\').system(\'id\')"}}',
    '{"name": "run_sql", "arguments": {"query": "ATTACH DATABASE \'/tmp/x\' AS x"}}',
    "answer",
    "```json\n{}\n```",
]


def test_tooluse_contract():
    report = check_env_contract("palaestra/ToolUse-v0", near_misses=NEAR_MISSES)
    assert report.fuzz_examples >= 50


@pytest.mark.skipif(importlib.util.find_spec("bfcl_eval") is None,
                    reason="bfcl-eval is not installed: pip install --no-deps bfcl-eval")
@pytest.mark.parametrize("category", ["simple", "parallel_multiple", "multi_turn_base", "simple_java", "memory_kv",
                                      "memory_rec_sum_prereq"])
def test_bfcl_contract(category):
    report = check_env_contract("palaestra/BFCL-v0", category=category, near_misses=NEAR_MISSES,
                                fuzz_examples=300)
    assert report.fuzz_examples >= 50
