"""Web envs: step and reset latency of the text and browser modes, restore (set_state)
medians, and palaestra's browser mode against BrowserGym on the same MiniWoB++ pages and
actions, measured ALTERNATING (a palaestra round, then a BrowserGym round, repeated).

    python benchmarks/web.py                 # everything (BrowserGym if its venv exists)
    python benchmarks/web.py --quick         # fewer rounds
    python benchmarks/web.py --bgym-python /tmp/bgym-venv/bin/python

BrowserGym runs in its OWN virtual environment (it pins playwright==1.44), as one
long-lived subprocess that runs a round whenever this script asks, so that the two sides
alternate under the same machine load; create it once with::

    python3 -m venv /tmp/bgym-venv && /tmp/bgym-venv/bin/pip install browsergym-miniwob==0.14.3

Both sides use Debian's Chromium and the MiniWoB++ pages of the same ``miniwob``
package, served over http from 127.0.0.1 by this script. BrowserGym is tuned for speed
(``slow_mo=0`` and no pre-observation delay). BrowserGym has no snapshots: its way back
to a state is ``reset(seed)`` and replaying the actions, which is what its "restore"
column times; palaestra's is ``set_state`` (re-seed and replay in the live page).
Figures are wall-clock (the work spans the driver and Chromium processes); ratios are
palaestra / BrowserGym, the median of the per-round ratios.
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

console = Console(width=180)
MINIWOB_TASKS = ["click-test", "click-button", "enter-text"]
RESTORE_TASKS = ["click-checkboxes", "enter-text", "form-sequence-2", "use-spinner", "choose-date-nodelay"]


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


class ShopSide:
    """WebShop in the browser: oracle episodes; restores of the state after each step."""

    def __init__(self):
        import gymnasium as gym

        import palaestra  # noqa: F401

        self.env = gym.make("palaestra/WebShop-v0", mode="browser", text=True)
        t = time.perf_counter()
        self.env.reset(seed=0)
        self.first = time.perf_counter() - t
        self.steps, self.resets, self.restores, self.exact = [], [], [], 0

    def round(self, seeds) -> None:
        env, base = self.env, self.env.unwrapped
        for seed in seeds:
            t = time.perf_counter()
            env.reset(seed=seed)
            self.resets.append(time.perf_counter() - t)
            snaps = []
            for action in base.task.solve(base):
                snaps.append((base.get_state(), base.render_text()))
                t = time.perf_counter()
                env.step(action)
                self.steps.append(time.perf_counter() - t)
            for state, text in snaps[1:]:
                t = time.perf_counter()
                base.set_state(state)
                self.restores.append(time.perf_counter() - t)
                self.exact += base.render_text() == text

    def close(self):
        self.env.close()


class MiniWoBSide:
    """palaestra's MiniWoB envs: oracle episodes (step, reset) and restores."""

    def __init__(self, tasks, restore_tasks):
        import gymnasium as gym

        import palaestra  # noqa: F401

        self.envs = {t: gym.make(f"palaestra/miniwob.{t}-v0", text=True, reward="binary")
                     for t in dict.fromkeys(tasks + restore_tasks)}
        for env in self.envs.values():
            env.reset(seed=0)  # launch Chromium outside the timings
        self.tasks, self.restore_tasks = tasks, restore_tasks
        self.steps, self.resets, self.restores, self.rewards, self.exact = [], [], [], [], 0

    def round(self, seeds) -> dict:
        steps, resets, restores, same = [], [], [], []
        for task in self.tasks:
            env = self.envs[task]
            base = env.unwrapped
            for seed in seeds:
                t = time.perf_counter()
                env.reset(seed=seed)
                resets.append(time.perf_counter() - t)
                r, done = 0.0, False
                while not done:
                    action = base.task.solve(base)[0]
                    t = time.perf_counter()
                    _, r, term, trunc, _ = env.step(action)
                    steps.append(time.perf_counter() - t)
                    done = term or trunc
                self.rewards.append(r)
        for task in self.restore_tasks:
            env = self.envs[task]
            base = env.unwrapped
            for seed in seeds:
                env.reset(seed=seed)
                snaps, done = [], False
                while not done:
                    snaps.append((base.get_state(), base.render_text()))
                    _, _, term, trunc, _ = env.step(base.task.solve(base)[0])
                    done = term or trunc
                for state, text in snaps[1:]:  # states after 1, 2, ... actions
                    t = time.perf_counter()
                    base.set_state(state)
                    restores.append(time.perf_counter() - t)
                    if task in self.tasks:
                        same.append(restores[-1])
                    self.exact += base.render_text() == text
        self.steps += steps
        self.resets += resets
        self.restores += restores
        # the restore compared with BrowserGym's is on the tasks both sides run
        return {"step": statistics.median(steps), "reset": statistics.median(resets),
                "restore": statistics.median(same) if same else float("nan")}

    def close(self):
        for env in self.envs.values():
            env.close()


# BrowserGym side: a long-lived process that runs one round per line on stdin; the same
# semantic actions as palaestra's oracles (click the asked button, fill the asked text then
# submit), addressed by BrowserGym's own bids. Its restore is reset(seed) + replay.
_BGYM_RUNNER = r"""
import json, re, sys, time, statistics
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
kwargs = {"headless": True, "slow_mo": 0, "pre_observation_delay": 0}
envs = {t: gym.make(f"browsergym/miniwob.{t}", **kwargs) for t in args["tasks"]}
for env in envs.values():
    env.reset(seed=0)
def plan(task, env, goal):
    page = env.unwrapped.page
    def bid(selector):
        for f in page.frames:
            el = f.query_selector(selector)
            if el is not None and el.get_attribute("bid"):
                return el.get_attribute("bid")
        raise RuntimeError("no bid for " + selector)
    if task == "click-test":
        return [f'click("{bid("button")}")']
    if task == "click-button":
        name = re.search(r'"(.*)"', goal).group(1)
        sel = 'button:text-is("' + name + '")'
        return [f'click("{bid(sel)}")']
    text = re.search(r'Enter "(.*)" into', goal).group(1)
    return [f'fill("{bid("input[type=text], input")}", {json.dumps(text)})', f'click("{bid("button")}")']
print("READY", flush=True)
for line in sys.stdin:
    cmd = json.loads(line)
    steps, resets, restores, rewards = [], [], [], []
    for task, env in envs.items():
        for seed in cmd["seeds"]:
            t = time.perf_counter(); obs, info = env.reset(seed=seed); resets.append(time.perf_counter() - t)
            goal = obs["goal"] if "goal" in obs else str(obs.get("goal_object"))
            actions = plan(task, env, goal)
            r = 0.0
            for a in actions:
                t = time.perf_counter(); obs, r, term, trunc, info = env.step(a); steps.append(time.perf_counter() - t)
            rewards.append(r)
            for k in range(1, len(actions)):  # back to the state after k actions: reset + replay
                t = time.perf_counter()
                env.reset(seed=seed)
                for a in actions[:k]:
                    env.step(a)
                restores.append(time.perf_counter() - t)
    print("RESULT " + json.dumps({"steps": steps, "resets": resets, "restores": restores, "rewards": rewards}), flush=True)
for env in envs.values():
    env.close()
"""


class BrowserGymSide:
    def __init__(self, python: str, tasks, miniwob_url: str):
        from palaestra.envs.web.browser import chromium_executable

        fd, self.script = tempfile.mkstemp(suffix=".py")
        with os.fdopen(fd, "w") as f:
            f.write(_BGYM_RUNNER)
        payload = json.dumps({"chromium": chromium_executable(), "tasks": tasks})
        self.proc = subprocess.Popen([python, self.script, payload], env=dict(os.environ, MINIWOB_URL=miniwob_url),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._expect("READY")
        self.steps, self.resets, self.restores, self.rewards = [], [], [], []

    def _expect(self, prefix: str) -> str:
        for line in self.proc.stdout:
            if line.startswith(prefix):
                return line[len(prefix):].strip()
        raise RuntimeError(f"BrowserGym runner stopped:\n{self.proc.stderr.read()[-3000:]}")

    def round(self, seeds) -> dict:
        self.proc.stdin.write(json.dumps({"seeds": list(seeds)}) + "\n")
        self.proc.stdin.flush()
        res = json.loads(self._expect("RESULT "))
        self.steps += res["steps"]
        self.resets += res["resets"]
        self.restores += res["restores"]
        self.rewards += res["rewards"]
        return {"step": statistics.median(res["steps"]), "reset": statistics.median(res["resets"]),
                "restore": statistics.median(res["restores"]) if res["restores"] else float("nan")}

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
        except Exception:  # noqa: BLE001
            self.proc.kill()
        os.unlink(self.script)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--no-browser", action="store_true", help="text mode only")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 6, --quick 3)")
    parser.add_argument("--bgym-python", default="/tmp/bgym-venv/bin/python", help="python of BrowserGym's own venv")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 6)
    per_round = 2 if args.quick else 3
    text_eps = 20 if args.quick else 100

    table = Table(title="palaestra web envs: latency (ms; median / p95)")
    for col in ("what", "step median", "step p95", "reset median", "restore median", "restore p95", "notes"):
        table.add_column(col)
    with console.status("text mode..."):
        text = bench_text(text_eps)
    table.add_row("WebShop-v0 text", f"{text['step'][0]:.3f}", f"{text['step'][1]:.3f}", f"{text['reset'][0]:.3f}",
                  "-", "-", f"{text['n']} steps")
    if args.no_browser:
        console.print(table)
        return

    from palaestra.envs.web.miniwob import miniwob_app
    from palaestra.envs.web.server import BackgroundServer

    server = BackgroundServer(miniwob_app()).start()
    bgym = None
    if Path(args.bgym_python).exists():
        with console.status("starting BrowserGym..."):
            bgym = BrowserGymSide(args.bgym_python, MINIWOB_TASKS, server.origin + "/miniwob/")
    else:
        console.print(f"[yellow]BrowserGym not measured[/yellow]: {args.bgym_python} not found. Create its venv with\n"
                      "  python3 -m venv /tmp/bgym-venv && /tmp/bgym-venv/bin/pip install browsergym-miniwob==0.14.3")
    with console.status("starting palaestra..."):
        shop = ShopSide()
        mw = MiniWoBSide(MINIWOB_TASKS, RESTORE_TASKS)
    ratios = {"step": [], "reset": [], "restore": []}
    for r in range(rounds):
        seeds = range(1 + r * per_round, 1 + (r + 1) * per_round)
        with console.status(f"round {r + 1}/{rounds}: palaestra..."):
            ours = mw.round(seeds)
            shop.round(seeds)
        if bgym is not None:
            with console.status(f"round {r + 1}/{rounds}: BrowserGym..."):
                theirs = bgym.round(seeds)
            for k in ratios:
                ratios[k].append(ours[k] / theirs[k])

    st, rs = _stats(shop.steps), _stats(shop.restores)
    table.add_row("WebShop-v0 browser", f"{st[0]:.1f}", f"{st[1]:.1f}", f"{_stats(shop.resets)[0]:.1f}", f"{rs[0]:.1f}",
                  f"{rs[1]:.1f}", f"restores exact {shop.exact}/{len(shop.restores)}; first reset {shop.first:.2f} s")
    st, rs = _stats(mw.steps), _stats(mw.restores)
    table.add_row("miniwob (palaestra)", f"{st[0]:.1f}", f"{st[1]:.1f}", f"{_stats(mw.resets)[0]:.1f}", f"{rs[0]:.1f}",
                  f"{rs[1]:.1f}", f"success {sum(x > 0 for x in mw.rewards)}/{len(mw.rewards)}; restores exact "
                  f"{mw.exact}/{len(mw.restores)} ({', '.join(RESTORE_TASKS)})")
    if bgym is not None:
        st, rs = _stats(bgym.steps), _stats(bgym.restores)
        table.add_row("miniwob (BrowserGym, tuned)", f"{st[0]:.1f}", f"{st[1]:.1f}", f"{_stats(bgym.resets)[0]:.1f}",
                      f"{rs[0]:.1f}", f"{rs[1]:.1f}", f"success {sum(x > 0 for x in bgym.rewards)}/{len(bgym.rewards)}; "
                      "restore = reset(seed) + replay")
    console.print(table)
    if bgym is not None:
        side = Table(title=f"palaestra / BrowserGym (tuned), {', '.join(MINIWOB_TASKS)}, {rounds} alternating rounds: "
                           "median of per-round ratios [min, max]")
        for col in ("step", "reset", "restore"):
            side.add_column(col)
        side.add_row(*[f"{statistics.median(ratios[k]):.2f}x [{min(ratios[k]):.2f}, {max(ratios[k]):.2f}]"
                       for k in ("step", "reset", "restore")])
        console.print(side)
        console.print("Targets: restore median under 150 ms; step at most 0.5x tuned BrowserGym.")
        bgym.close()
    shop.close()
    mw.close()
    server.stop()


if __name__ == "__main__":
    sys.exit(main())
