"""BFCL-v0 under hostile arguments: bounded, error observations, no process-wide side effects
(issue 16: logarithm precision, mpmath's global precision, integer-to-string limit)."""

import importlib.util
import time

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("bfcl_eval") is None,
                                reason="bfcl-eval is not installed: pip install --no-deps bfcl-eval")


@pytest.fixture(scope="module")
def math_env():
    from palaestra.envs.tools.bfcl.env import BFCLEnv

    env = BFCLEnv(category="multi_turn_base")
    tid = next(t for t in env.task_ids if "MathAPI" in env.entries[t]["involved_classes"])
    return env, tid


def _last_result(env, tid, action):
    env.reset(options={"task": tid})
    start = time.process_time()
    _, reward, term, trunc, info = env.step(action)
    spent = time.process_time() - start
    return env.transcript()[-1], spent, term


def test_logarithm_precision_is_bounded_and_mpmath_precision_is_not_changed(math_env):
    import mpmath

    env, tid = math_env
    before = mpmath.mp.dps
    message, spent, term = _last_result(env, tid, {"reply": "[logarithm(value=2, base=10, precision=200000)]"})
    assert message["role"] == "tool" and "precision=200000 exceeds the sandbox's limit of 1000" in message["content"]
    assert spent < 2.0 and not term
    # an allowed precision runs, and mpmath's process-wide precision is restored afterwards
    log = {"name": "logarithm", "arguments": {"value": 2, "base": 10, "precision": 300}}
    message, _, _ = _last_result(env, tid, log)
    assert "0.30102999566398119521373889472449302676818988146210854131" in message["content"]
    assert mpmath.mp.dps == before


def test_square_root_leaves_decimal_precision_alone(math_env):
    import decimal

    env, tid = math_env
    before = decimal.getcontext().prec
    message, _, _ = _last_result(env, tid, {"name": "square_root", "arguments": {"number": 2, "precision": 80}})
    assert "1.41421356237309504880168872420969807856967187537694807317667973799" in message["content"]
    assert decimal.getcontext().prec == before


@pytest.mark.parametrize("reply", [
    "[power(base=" + "9" * 300 + ", exponent=20)]",
    "[multiply(a=" + "7" * 4000 + ", b=" + "3" * 4000 + ")]",
])
def test_huge_integer_results_are_error_observations(math_env, reply):
    env, tid = math_env
    message, spent, term = _last_result(env, tid, {"reply": reply})
    assert message["role"] == "tool" and message["content"].startswith("Error during execution: ")
    assert "Exceeds the limit (4300 digits) for integer string conversion" in message["content"]
    assert spent < 2.0 and not term
    env.get_state()  # the state stays serialisable


def test_huge_arithmetic_in_a_reply_is_bounded():
    from palaestra.envs.tools.bfcl.decoder import OVERSIZED, DecodeError, decode

    start = time.process_time()
    assert decode("[f(a=2**10**10)]") == [{"f": {"a": OVERSIZED}}]
    assert decode("[f(a='x'*10**9)]") == [{"f": {"a": OVERSIZED}}]
    assert decode("[f(a=1<<10**12)]") == [{"f": {"a": OVERSIZED}}]
    assert decode("[f(a='%0999999999d' % 1)]") == [{"f": {"a": OVERSIZED}}]
    with pytest.raises(DecodeError, match="does not run code"):
        decode("[f(a=__import__('os').getpid() + 1)]")
    with pytest.raises(DecodeError):
        decode("[f(a=" + "(" * 5000 + "1" + ")" * 5000 + ")]")
    with pytest.raises(DecodeError):
        decode("[f(a=1)]" + " " * 200_000)
    assert time.process_time() - start < 2.0


@pytest.mark.parametrize("language", ["java", "javascript"])
@pytest.mark.parametrize("reply", [
    "f(a=" + "(" * 30000 + "1" + ")" * 30000 + ")",
    "f(a=" + "-" * 50000 + "1)",
    "f(a=" + "1+" * 30000 + "1)",
])
def test_deep_java_and_javascript_replies_are_refused_instead_of_crashing(language, reply):
    # BFCL's tree-sitter parsers recurse over the tree: these replies segfault the process
    from palaestra.envs.tools.bfcl.decoder import DecodeError, decode

    start = time.process_time()
    with pytest.raises(DecodeError, match="levels deep"):
        decode(reply, language)
    assert time.process_time() - start < 2.0


def test_deep_reply_through_the_java_env_is_a_failed_decode():
    import gymnasium as gym

    import palaestra  # noqa: F401

    env = gym.make("palaestra/BFCL-v0", category="simple_java", text=True)
    env.reset(seed=0)
    _, reward, term, _, info = env.step("f(a=" + "-" * 50000 + "1)")
    assert term and reward == 0.0 and info["verdict"]["error_type"] == "ast_decoder:decoder_failed"
