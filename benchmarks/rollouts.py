"""Concurrent rollouts against a served model: episodes/s with 32 in flight vs one at a time.

A local OpenAI-compatible server (tests/_agents_openai_server.py, in its own process,
answering every request after 50 ms, as a remote model would) serves an LLM agent on
ToolUse-v0 in text mode. Rounds alternate one-at-a-time collection and ``collect`` with
32 episodes in flight; the median ratio of episodes per second (wall clock: the point
is hiding the model's latency) is printed.
"""

from __future__ import annotations

import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

DELAY_S, ROUNDS, SERIAL_EPISODES, PARALLEL_EPISODES, IN_FLIGHT = 0.05, 3, 20, 320, 32


def _serve(q):
    from _agents_openai_server import FakeOpenAI

    srv = FakeOpenAI(reply=lambda m, i: 'Action: {"answer": "42"}', delay=DELAY_S)
    srv.__enter__()
    q.put(srv.url)
    while True:
        time.sleep(1)


def main() -> None:
    q: mp.Queue = mp.Queue()
    server = mp.Process(target=_serve, args=(q,), daemon=True)
    server.start()
    url = q.get(timeout=30)
    import palaestra  # noqa: F401
    from palaestra.agents.llm.openai_lm import OpenAICompatibleLM
    from palaestra.rollouts import collect

    lm = OpenAICompatibleLM(url, "fake", concurrency=IN_FLIGHT)
    collect("palaestra/ToolUse-v0", "llm", 8, agent_options={"llm": lm}, in_flight=8, progress=False)  # warm-up
    serial, parallel = [], []
    for _ in range(ROUNDS):
        a = collect("palaestra/ToolUse-v0", "llm", SERIAL_EPISODES, agent_options={"llm": lm}, in_flight=1,
                    progress=False)
        b = collect("palaestra/ToolUse-v0", "llm", PARALLEL_EPISODES, agent_options={"llm": lm},
                    in_flight=IN_FLIGHT, progress=False)
        serial.append(a.episodes_per_s)
        parallel.append(b.episodes_per_s)
    server.terminate()
    ratio = statistics.median(p / s for p, s in zip(parallel, serial))
    print(f"ToolUse-v0 text, LLM agent, server answering after {DELAY_S * 1000:.0f} ms, {ROUNDS} alternating rounds")
    print(f"  one at a time : {statistics.median(serial):7.1f} episodes/s  (ceiling {1 / DELAY_S:.0f})")
    print(f"  {IN_FLIGHT} in flight  : {statistics.median(parallel):7.1f} episodes/s  (ceiling {IN_FLIGHT / DELAY_S:.0f})")
    print(f"  median ratio  : {ratio:.1f}x")


if __name__ == "__main__":
    main()
