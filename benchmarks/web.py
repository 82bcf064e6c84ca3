"""Web envs: step and reset latency of the text and browser modes, and palaestra's
browser mode side by side with BrowserGym on the same MiniWoB++ pages and actions.

    python benchmarks/web.py                 # everything (BrowserGym if its venv exists)
    python benchmarks/web.py --quick         # fewer episodes
    python benchmarks/web.py --bgym-python /tmp/bgym-venv/bin/python

BrowserGym runs in its OWN virtual environment (it pins playwright==1.44), as a
subprocess; create it once with::

    python3 -m venv /tmp/bgym-venv && /tmp/bgym-venv/bin/pip install browsergym-miniwob==0.14.3

Both sides use Debian's Chromium and the MiniWoB++ pages of the same ``miniwob``
package, served over http from 127.0.0.1 by this script. BrowserGym is measured with
its defaults and tuned for speed (``slow_mo=0`` and no pre-observation delay).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

console = Console()
MINIWOB_TASKS = ["click-test", "click-button", "enter-text"]


def _stats(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    if not xs:
        return float("nan"), float("nan")
    return statistics.median(xs) * 1000, xs[min(len(xs) - 1, int(0.95 * len(xs)))] * 1000


def bench_text(episodes: int) -> dict:
    import gymnasium as gym

    import palaestra  # noqa: F401

    env = gym.make("palaestra/WebShop-v0", text=True)
    base = env.unwrapped
    env.reset(seed=0)  # build the catalogue and search index once
    steps, resets, rng = [], [], random.Random(0)
    for seed in range(episodes):
        t = time.perf_counter()
        env.reset(seed=seed)
        resets.append(time.perf_counter() - t)
        plan = base.task.solve(base) if seed % 2 == 0 else None
        for i in range(20):
            action = plan[i] if plan and i < len(plan) else base.sample_action(rng)
            if action is None:
                break
            t = time.perf_counter()
            _, _, term, trunc, _ = env.step(action)
            steps.append(time.perf_counter() - t)
            if term or trunc:
                break
    env.close()
    return {"step": _stats(steps), "reset": _stats(resets), "n": len(steps)}


def bench_browser_shop(episodes: int) -> dict:
    import gymnasium as gym

    import palaestra  # noqa: F401

    env = gym.make("palaestra/WebShop-v0", mode="browser", text=True)
    base = env.unwrapped
    t = time.perf_counter()
    env.reset(seed=0)
    first = time.perf_counter() - t
    steps, resets = [], []
    for seed in range(episodes):
        t = time.perf_counter()
        env.reset(seed=seed)
        resets.append(time.perf_counter() - t)
        for action in base.task.solve(base):
            t = time.perf_counter()
            env.step(action)
            steps.append(time.perf_counter() - t)
    env.close()
    return {"step": _stats(steps), "reset": _stats(resets), "first_reset_s": first, "n": len(steps)}


def bench_palaestra_miniwob(episodes: int) -> dict:
    import gymnasium as gym

    import palaestra  # noqa: F401

    steps, resets, rewards = [], [], []
    for task in MINIWOB_TASKS:
        env = gym.make(f"palaestra/miniwob.{task}-v0", text=True, reward="binary")
        base = env.unwrapped
        env.reset(seed=0)
        for seed in range(episodes):
            t = time.perf_counter()
            env.reset(seed=seed)
            resets.append(time.perf_counter() - t)
            for action in base.task.solve(base):
                t = time.perf_counter()
                _, r, term, _, _ = env.step(action)
                steps.append(time.perf_counter() - t)
            rewards.append(r)
        env.close()
    return {"step": _stats(steps), "reset": _stats(resets), "reward": sum(rewards) / len(rewards), "n": len(steps)}


# BrowserGym side: the same semantic actions (the oracle's: click the asked button, fill
# the asked text then submit), addressed by BrowserGym's own bids.
_BGYM_RUNNER = r'''
import json, re, shutil, sys, time, statistics
import gymnasium as gym
import playwright.sync_api as pw
args = json.loads(sys.argv[1])
chromium = args["chromium"]
flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
_launch = pw.BrowserType.launch
def launch(self, *a, **k):
    k["executable_path"] = chromium
    k["args"] = list(k.get("args") or []) + flags
    return _launch(self, *a, **k)
pw.BrowserType.launch = launch
import browsergym.miniwob  # noqa: F401 registers browsergym/miniwob.*
kwargs = {"headless": True}
if args["tuned"]:
    kwargs["slow_mo"] = 0
    kwargs["pre_observation_delay"] = 0
steps, resets, rewards = [], [], []
for task in args["tasks"]:
    env = gym.make(f"browsergym/miniwob.{task}", **kwargs)
    for seed in range(args["episodes"]):
        t = time.perf_counter(); obs, info = env.reset(seed=seed); resets.append(time.perf_counter() - t)
        page = env.unwrapped.page
        goal = obs["goal"] if "goal" in obs else str(obs.get("goal_object"))
        def bid(selector):
            for f in page.frames:
                el = f.query_selector(selector)
                if el is not None and el.get_attribute("bid"):
                    return el.get_attribute("bid")
            raise RuntimeError("no bid for " + selector)
        if task == "click-test":
            actions = [f'click("{bid("button")}")']
        elif task == "click-button":
            name = re.search(r'"(.*)"', goal).group(1)
            sel = f'button:text-is("{name}")'
            actions = [f'click("{bid(sel)}")']
        else:
            text = re.search(r'Enter "(.*)" into', goal).group(1)
            actions = [f'fill("{bid("input[type=text], input")}", {json.dumps(text)})', f'click("{bid("button")}")']
        r = 0.0
        for a in actions:
            t = time.perf_counter(); obs, r, term, trunc, info = env.step(a); steps.append(time.perf_counter() - t)
        rewards.append(r)
    env.close()
def st(xs):
    xs = sorted(xs); return [statistics.median(xs) * 1000, xs[min(len(xs) - 1, int(0.95 * len(xs)))] * 1000]
print("RESULT " + json.dumps({"step": st(steps), "reset": st(resets), "reward": sum(rewards) / len(rewards), "n": len(steps)}))
'''


def bench_browsergym(python: str, episodes: int, tuned: bool, miniwob_url: str) -> dict | None:
    from palaestra.envs.web.browser import chromium_executable

    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(_BGYM_RUNNER)
        script = f.name
    env = dict(os.environ, MINIWOB_URL=miniwob_url)
    payload = json.dumps({"chromium": chromium_executable(), "tasks": MINIWOB_TASKS, "episodes": episodes, "tuned": tuned})
    try:
        out = subprocess.run([python, script, payload], env=env, capture_output=True, text=True, timeout=1800)
    finally:
        os.unlink(script)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            res = json.loads(line[len("RESULT "):])
            res["step"], res["reset"] = tuple(res["step"]), tuple(res["reset"])
            return res
    console.print(f"[red]BrowserGym run failed[/red] (rc={out.returncode}):\n{out.stderr[-3000:]}")
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer episodes")
    parser.add_argument("--no-browser", action="store_true", help="text mode only")
    parser.add_argument("--bgym-python", default="/tmp/bgym-venv/bin/python", help="python of BrowserGym's own venv")
    args = parser.parse_args()
    text_eps, shop_eps, mw_eps = (20, 3, 3) if args.quick else (100, 10, 10)

    table = Table(title="palaestra web envs: latency (ms)")
    for col in ("what", "step median", "step p95", "reset median", "reset p95", "notes"):
        table.add_column(col)
    with console.status("text mode..."):
        text = bench_text(text_eps)
    table.add_row("WebShop-v0 text", f"{text['step'][0]:.3f}", f"{text['step'][1]:.3f}", f"{text['reset'][0]:.3f}",
                  f"{text['reset'][1]:.3f}", f"{text['n']} steps")
    if args.no_browser:
        console.print(table)
        return
    with console.status("browser mode (shop)..."):
        shop = bench_browser_shop(shop_eps)
    table.add_row("WebShop-v0 browser", f"{shop['step'][0]:.1f}", f"{shop['step'][1]:.1f}", f"{shop['reset'][0]:.1f}",
                  f"{shop['reset'][1]:.1f}", f"first reset (launch) {shop['first_reset_s']:.2f} s")
    with console.status("browser mode (MiniWoB++)..."):
        mw = bench_palaestra_miniwob(mw_eps)
    table.add_row("miniwob (palaestra)", f"{mw['step'][0]:.1f}", f"{mw['step'][1]:.1f}", f"{mw['reset'][0]:.1f}",
                  f"{mw['reset'][1]:.1f}", f"success {mw['reward']:.2f}")
    console.print(table)

    if not Path(args.bgym_python).exists():
        console.print(f"[yellow]BrowserGym not measured[/yellow]: {args.bgym_python} not found. Create its venv with\n"
                      "  python3 -m venv /tmp/bgym-venv && /tmp/bgym-venv/bin/pip install browsergym-miniwob==0.14.3")
        return
    from palaestra.envs.web.miniwob import miniwob_app
    from palaestra.envs.web.server import BackgroundServer

    with BackgroundServer(miniwob_app()) as server:
        url = server.origin + "/miniwob/"
        rows = []
        for tuned in (False, True):
            with console.status(f"BrowserGym ({'tuned' if tuned else 'defaults'})..."):
                res = bench_browsergym(args.bgym_python, mw_eps, tuned, url)
            rows.append((tuned, res))
    side = Table(title=f"MiniWoB++ {', '.join(MINIWOB_TASKS)}: same pages, same actions (ms; ratio = palaestra / BrowserGym)")
    for col in ("BrowserGym", "its step median", "palaestra step median", "step ratio", "its reset median",
                "palaestra reset median", "reset ratio", "its success"):
        side.add_column(col)
    for tuned, res in rows:
        if res is None:
            continue
        side.add_row("tuned (slow_mo=0, no delay)" if tuned else "defaults", f"{res['step'][0]:.1f}", f"{mw['step'][0]:.1f}",
                     f"{mw['step'][0] / res['step'][0]:.2f}x", f"{res['reset'][0]:.1f}", f"{mw['reset'][0]:.1f}",
                     f"{mw['reset'][0] / res['reset'][0]:.2f}x", f"{res['reward']:.2f}")
    console.print(side)
    console.print("Target: palaestra's browser step at most 0.7x BrowserGym's.")


if __name__ == "__main__":
    sys.exit(main())
