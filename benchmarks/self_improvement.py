"""Does search + learning make the policy itself better? The measured self-improvement loop.

Connect Four against a fixed opponent that leaves headroom (OpenSpiel's MCTS with
``--opponent-sims`` simulations: a constant column-4 policy wins about a third of its
games, MCTS-100 most). A tiny GPT-2-style model (built offline, random init):

0. **round 0** — MCTS (``--label-sims``) plays ``--sft-episodes`` train games and labels
   every state; the model is SFT-trained on the search's visit distributions;
1. **rounds 1..R** — ``palaestra improve``: the policy (scoring the legal actions,
   sampling at T=1) plays ``--episodes`` fresh train games, MCTS labels every state it
   reaches, step pairs where the search is sure (confidence bounds or the solver), DPO;
2. **control** — the same loop with ``learner="sft"``: the same number of search
   labels per round spent on more SFT (visit targets) instead of DPO;

every policy is evaluated greedy over the legal actions on ``--test`` held-out seeds
(10000...), the same seeds for all, so differences are paired. Reported: success with
Wilson intervals, paired 95% bootstrap intervals of each round against round 0 and
against the control's same round, baselines (random, constant column 4, the round-0
model generating freely instead of scoring the legal actions, the labelling search
itself), the pair audit (pairs re-judged by MCTS-2000), the critic (MCTS with and
without the model's self-critique), and wall times. Before the rounds it prints the
``palaestra improve`` command that reproduces round 1 from its own flags.

    python benchmarks/self_improvement.py --out out/bench           # CPU-sized (about 30-60 min on 2 cores)
    python benchmarks/self_improvement.py --scale 100000 --out out/scale   # only: labelled states per second

Not a test: the numbers are what they are; the JSON summary lands in --out.
"""

from __future__ import annotations

import argparse
import json
import random
import shlex
import time
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

console = Console(width=150)
ENV = "palaestra/ConnectFour-v0"


class ConstantColumn:
    """Answers the same column; a random legal move when that column is full."""

    name = "constant"

    def __init__(self, column: str = "4", seed: int = 0, fallback: bool = True):
        self.column, self.seed, self.fallback = column, seed, fallback

    def reset(self, env):
        self.base = env.unwrapped
        self.rng = random.Random(self.seed)

    def act(self, obs, info):
        legal = [self.base.format_action(a) for a in self.base.legal_actions()]
        if not self.fallback:
            return self.column  # the text view refuses it when the column is full
        return self.column if self.column in legal else legal[self.rng.randrange(len(legal))]


class RandomLegal(ConstantColumn):
    name = "random"

    def act(self, obs, info):
        legal = [self.base.format_action(a) for a in self.base.legal_actions()]
        return legal[self.rng.randrange(len(legal))]


def play(env_kwargs, agent_factory, seeds, max_steps=60) -> tuple[list[int], dict]:
    """Successes (0/1) per seed, and the actions' counts, for an in-process agent."""
    import gymnasium as gym

    import palaestra  # noqa: F401
    from palaestra.runner import run_episode

    env = gym.make(ENV, text=True, **env_kwargs)
    wins, counts = [], {}

    class Counting:
        def __init__(self, inner):
            self.inner = inner
            self.name = getattr(inner, "name", "agent")

        def reset(self, e):
            self.inner.reset(e)

        def act(self, o, i):
            a = self.inner.act(o, i)
            counts[str(a)] = counts.get(str(a), 0) + 1
            return a

    for s in seeds:
        wins.append(int(bool(run_episode(env, Counting(agent_factory(s)), seed=int(s), max_steps=max_steps).success)))
    env.close()
    return wins, counts


def paired_ci(a: list[int], b: list[int], seed: int = 0):
    from palaestra.core.stats import bootstrap_mean_ci

    d = [float(x - y) for x, y in zip(a, b)]
    return sum(d) / len(d), bootstrap_mean_ci(d, seed=seed)


def fmt_rate(wins: list[int]) -> str:
    from palaestra.core.stats import wilson

    lo, hi = wilson(sum(wins), len(wins))
    return f"{sum(wins)}/{len(wins)} = {sum(wins) / len(wins):.1%} [{lo:.1%}, {hi:.1%}]"


def fmt_gain(g) -> str:
    m, (lo, hi) = g
    return f"{100 * m:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]" + (" *" if lo > 0 or hi < 0 else "")


def improve_command(args, sft_model: Path, out: Path, learner: str) -> list[str]:
    """The ``palaestra improve`` invocation that runs the same rounds as this script."""
    return ["palaestra", "improve", ENV, "--model", str(sft_model), "--out", str(out), "--rounds", str(args.rounds),
            "--episodes", str(args.episodes), "--train-seed-start", "0", "--test-seeds", str(args.test),
            "--test-seed-start", "10000", "--simulations", str(args.label_sims), "--critic", "none",
            "--env-opt", "opponent=mcts", "--env-opt", f'opponent_options={{"simulations": {args.opponent_sims}}}',
            "--policy-temperature", str(args.policy_temperature), "--prompt", args.prompt, "--learner", learner,
            "--pair-mode", args.pair_mode, "--min-margin", "0.0", "--min-visits", "1",
            "--confidence", str(args.confidence), "--sft-target", "visits", "--visit-samples", str(args.visit_samples),
            "--preset", "tiny", "--lr", str(args.dpo_lr), "--epochs", str(args.dpo_epochs), "--batch-size",
            str(args.batch), "--beta", str(args.beta), "--sft-weight", str(args.sft_weight),
            "--sft-lr", str(args.sft_lr), "--sft-epochs", str(args.round_sft_epochs),
            "--sft-batch-size", str(args.batch), "--max-steps", "60", "--workers", str(args.workers),
            "--audit", str(args.audit if learner == "dpo" else 0), "--audit-simulations", str(args.audit_sims),
            "--seed", str(args.seed), "--threads", "1"]


def settings_from(args, learner: str):
    from palaestra.training.loop import ImproveSettings
    from palaestra.training.trainers import preset

    env_kwargs = {"opponent": "mcts", "opponent_options": {"simulations": args.opponent_sims}}
    return ImproveSettings(
        env_id=ENV, env_kwargs=env_kwargs, rounds=args.rounds, episodes_per_round=args.episodes, train_seed_start=0,
        test_seeds=list(range(10_000, 10_000 + args.test)),
        mcts={"simulations": args.label_sims, "critic": None, "rollout": "random", "search_reward": "true"},
        policy_temperature=args.policy_temperature, prompt=args.prompt, history=4, learner=learner,
        pairs={"mode": args.pair_mode, "min_margin": 0.0, "min_visits": 1, "confidence": args.confidence},
        sft_target="visits", visit_samples=args.visit_samples,
        dpo=preset("tiny", "dpo", learning_rate=args.dpo_lr, epochs=args.dpo_epochs, batch_size=args.batch,
                   beta=args.beta, sft_weight=args.sft_weight, max_length=1024, seed=args.seed, threads=1),
        sft=preset("tiny", "sft", learning_rate=args.sft_lr, epochs=args.round_sft_epochs, batch_size=args.batch,
                   max_length=1024, seed=args.seed, threads=1),
        eval_temperature=0.0, max_steps=60, workers=args.workers, backend="process",
        audit=args.audit if learner == "dpo" else 0, audit_simulations=args.audit_sims, threads=1, seed=args.seed)


def scale(args):
    """Labelled states per second of the parallel collector (search acts, MCTS labels)."""
    from palaestra.training.collect import CollectSettings, collect

    env_kwargs = {"opponent": "mcts", "opponent_options": {"simulations": args.opponent_sims}}
    per_episode = 10  # about 10 agent moves per game against this opponent
    seeds = list(range(100_000, 100_000 + args.scale // per_episode + 1))
    rep = collect(CollectSettings(ENV, env_kwargs, seeds, {"simulations": args.label_sims, "rollout": "random",
                                                           "search_reward": "true"}, actor="search",
                                  prompt=args.prompt, workers=args.workers, max_steps=60), args.out / "collect")
    console.print(f"scale: {rep.summary()}; CPU {rep.cpu_s:.0f} s")
    (args.out / "scale.json").write_text(json.dumps({"labelled": rep.labelled, "wall_s": rep.wall_s,
                                                      "cpu_s": rep.cpu_s, "workers": rep.workers,
                                                      "label_sims": args.label_sims}, indent=1))


def repro(args):
    """Issue 15's measurement on the old recipe: SFT on 40 MCTS-200 games (actions as targets,
    full prompt, lr 2e-3, 6 epochs, batch 8), against random, on seeds 10000-10199: the
    model generating freely, the same model scoring the legal actions, constant column 4."""
    import gymnasium as gym
    import torch

    import palaestra  # noqa: F401
    from palaestra.agents.llm.tiny import build_tiny_model
    from palaestra.agents.llm.transformers_lm import TransformersLM
    from palaestra.agents.llm_agent import LLMAgent
    from palaestra.agents.mcts import MCTSAgent
    from palaestra.runner import run_episode
    from palaestra.training import sft_examples, train_sft
    from palaestra.training.trainers import TrainSettings
    from palaestra.wrappers.record import RecordEpisodes

    torch.set_num_threads(1)
    out = args.out / "repro"
    base, demos, sft = out / "base", out / "demos", out / "sft"
    if not (base / "config.json").exists():
        build_tiny_model(base, seed=0)
    if not (demos / "episodes.jsonl").exists():
        env = RecordEpisodes(gym.make(ENV, text=True, opponent="random"), demos, agent_name="mcts", save_images=False)
        for s in range(50_000, 50_040):
            run_episode(env, MCTSAgent(simulations=200, seed=0), seed=s, max_steps=60)
        env.close()
    if not (sft / "config.json").exists():
        res = train_sft(sft_examples(demos), base, sft, TrainSettings(learning_rate=2e-3, epochs=6, batch_size=8,
                                                                      threads=1), progress=False)
        console.print(res.summary())
    lm = TransformersLM(sft, max_threads=1)
    seeds = list(range(10_000, 10_000 + args.test))
    kw = {"opponent": "random"}
    arms = {
        "SFT, free generation (greedy)": lambda s: LLMAgent(llm=lm, policy="generate", temperature=0.0, retries=2,
                                                            max_new_tokens=8, seed=0),
        "SFT, legal-action scoring (greedy)": lambda s: LLMAgent(llm=lm, policy="legal", temperature=0.0, seed=0),
        "constant column 4 (random when full)": lambda s: ConstantColumn("4", s),
        "constant 4 (always, refused when full)": lambda s: ConstantColumn("4", s, fallback=False),
        "random legal": lambda s: RandomLegal("", s),
    }
    wins, counts = {}, {}
    for name, make in arms.items():
        wins[name], counts[name] = play(kw, make, seeds)
        n4 = counts[name].get("4", 0)
        console.print(f"{name}: {fmt_rate(wins[name])}; column 4 in {n4}/{sum(counts[name].values())} moves")
    legal, const = wins["SFT, legal-action scoring (greedy)"], wins["constant column 4 (random when full)"]
    gen = wins["SFT, free generation (greedy)"]
    pure = wins["constant 4 (always, refused when full)"]
    console.print(f"legal - free generation: {fmt_gain(paired_ci(legal, gen))} pts; legal - constant 4 with "
                  f"fallback: {fmt_gain(paired_ci(legal, const))} pts; legal - always 4: "
                  f"{fmt_gain(paired_ci(legal, pure))} pts (paired 95%)")
    (out / "repro.json").write_text(json.dumps({"wins": wins, "action_counts": counts}, indent=1))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("recordings/bench-self-improvement"))
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--opponent-sims", type=int, default=25, help="the fixed opponent: OpenSpiel MCTS simulations")
    p.add_argument("--label-sims", type=int, default=200, help="MCTS simulations per labelled state")
    p.add_argument("--sft-episodes", type=int, default=2000, help="search-played train games for the round-0 SFT")
    p.add_argument("--ref-test", type=int, default=200, help="test seeds for the slow reference policies "
                   "(free generation, the labelling search): the first N")
    p.add_argument("--episodes", type=int, default=200, help="policy-played train games per round")
    p.add_argument("--test", type=int, default=400, help="held-out test seeds (paired)")
    p.add_argument("--prompt", default="compact", help="full or compact (recorded with the episodes)")
    p.add_argument("--policy-temperature", type=float, default=1.0)
    p.add_argument("--pair-mode", default="best_worst+policy")
    p.add_argument("--confidence", type=float, default=1.96)
    p.add_argument("--visit-samples", type=int, default=2)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--sft-lr", type=float, default=2e-3)
    p.add_argument("--sft-epochs", type=float, default=2, help="round-0 SFT epochs")
    p.add_argument("--round-sft-epochs", type=float, default=2, help="the control's SFT epochs per round")
    p.add_argument("--dpo-lr", type=float, default=3e-4)
    p.add_argument("--dpo-epochs", type=float, default=2)
    p.add_argument("--beta", type=float, default=0.1)
    p.add_argument("--sft-weight", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--audit", type=int, default=60, help="pairs per round re-judged by the stronger search")
    p.add_argument("--audit-sims", type=int, default=2000)
    p.add_argument("--critic-games", type=int, default=10, help="games per arm of the critic comparison (0: skip)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--parallel-arms", action="store_true", help="run the DPO and control arms as `palaestra improve` "
                   "processes beside the baselines")
    p.add_argument("--scale", type=int, default=0, help="only measure collection of this many labelled states")
    p.add_argument("--repro", action="store_true", help="only issue 15's measurement on the old recipe (vs random)")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.scale:
        return scale(args)
    if args.repro:
        return repro(args)
    run(args)


def run(args):
    import torch

    from palaestra.agents.llm.tiny import build_tiny_model
    from palaestra.agents.llm.transformers_lm import TransformersLM
    from palaestra.agents.llm_agent import LLMAgent
    from palaestra.agents.mcts import MCTSAgent
    from palaestra.training import sft_examples, train_sft
    from palaestra.training.collect import CollectSettings, collect
    from palaestra.training.loop import _summarise, evaluate, improve, rounds_table
    from palaestra.training.trainers import preset

    torch.set_num_threads(1)
    t_start = time.perf_counter()
    out = args.out
    times, summary = {}, {"args": {k: str(v) for k, v in vars(args).items()}}
    env_kwargs = {"opponent": "mcts", "opponent_options": {"simulations": args.opponent_sims}}
    tests = list(range(10_000, 10_000 + args.test))
    base = out / "base"
    if not (base / "config.json").exists():
        build_tiny_model(base, seed=args.seed, n_layer=args.layers, n_embd=args.width, n_head=max(2, args.width // 32))
    # ---- round 0: SFT on search labels -------------------------------------------------
    t0 = time.perf_counter()
    data = out / "sft-data"
    if not (data / "collect.json").exists():
        rep = collect(CollectSettings(ENV, env_kwargs, list(range(50_000, 50_000 + args.sft_episodes)),
                                      {"simulations": args.label_sims, "rollout": "random", "search_reward": "true"},
                                      actor="search", prompt=args.prompt, workers=args.workers, max_steps=60), data)
        console.print(f"round-0 data: {rep.summary()}")
    else:
        console.print(f"round-0 data: reusing {data} (delete it to collect again)")
    from palaestra.training import read_episodes

    got = read_episodes(data)
    summary["sft_data"] = {"episodes": len(got), "states": sum(len(e["steps"]) for e in got),
                           "seeds": sorted(int(e["seed"]) for e in got)}
    console.print(f"round-0 data: {len(got)} search-played games, {summary['sft_data']['states']} labelled states")
    times["sft_data_s"] = time.perf_counter() - t0
    sft0 = out / "sft0"
    t0 = time.perf_counter()
    if not (sft0 / "config.json").exists():
        ex = sft_examples(data, only_success=False, target="visits", visit_samples=args.visit_samples)
        console.print(ex.summary())
        res = train_sft(ex, base, sft0, preset("tiny", "sft", learning_rate=args.sft_lr, epochs=args.sft_epochs,
                                                batch_size=args.batch, seed=args.seed, threads=1),
                        progress=False)
        console.print(res.summary())
        summary["sft0"] = {"examples": res.examples, "loss_before": res.loss_before, "loss_after": res.loss_after,
                           "wall_s": res.wall_s}
    times["sft0_train_s"] = time.perf_counter() - t0
    procs = {}
    if args.parallel_arms:
        # each arm is the printed `palaestra improve` command, run as its own process beside the
        # baselines below (on a shared machine more processes get more CPU); its round 0 must
        # equal this script's round 0 (same model, seeds and settings)
        import os
        import shutil
        import subprocess
        import sys

        for learner in ("dpo", "sft"):
            folder = out / f"improve-{learner}"
            shutil.rmtree(folder, ignore_errors=True)
            cmd = improve_command(args, sft0, folder, learner)
            console.print(f"[bold]{learner} arm[/]: {shlex.join(cmd)}")
            log = open(out / f"improve-{learner}.log", "w")
            procs[learner] = (subprocess.Popen([sys.executable, "-c", "from palaestra.cli import main; main()", *cmd[1:]],
                                               stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ)), cmd, log)
    # ---- baselines and round 0 on the held-out seeds ------------------------------------------
    t0 = time.perf_counter()
    from palaestra.training.loop import ImproveSettings

    probe = ImproveSettings(ENV, env_kwargs, test_seeds=tests, prompt=args.prompt, workers=args.workers, max_steps=60)
    import shutil

    shutil.rmtree(out / "round0-eval", ignore_errors=True)
    r0 = _summarise(0, str(sft0), evaluate(sft0, probe, out / "round0-eval"), args.seed)
    times["round0_eval_s"] = time.perf_counter() - t0
    base_wins = {"round 0 (SFT, legal-action scoring)": r0.successes_by_seed}
    t0 = time.perf_counter()
    base_wins["constant column 4"], _ = play(env_kwargs, lambda s: ConstantColumn("4", s), tests)
    base_wins["always 4 (refused when full)"], _ = play(env_kwargs, lambda s: ConstantColumn("4", s, False), tests)
    base_wins["random legal"], _ = play(env_kwargs, lambda s: RandomLegal("", s), tests)
    lm = TransformersLM(sft0, max_threads=1)
    refs = tests[: args.ref_test]
    gen_wins, gen_counts = play(env_kwargs, lambda s: LLMAgent(llm=lm, policy="generate", temperature=0.0,
                                                               retries=1, fallback="random", max_new_tokens=4,
                                                               prompt=args.prompt, seed=s), refs)
    base_wins["round 0 (SFT, free generation)"] = gen_wins
    base_wins[f"MCTS-{args.label_sims} (the labeller)"], _ = play(
        env_kwargs, lambda s: MCTSAgent(simulations=args.label_sims, seed=s), refs)
    times["baselines_s"] = time.perf_counter() - t0
    moves = sum(gen_counts.values())
    summary["free_generation_actions"] = gen_counts
    console.print(f"free generation: {gen_counts.get('4', 0)}/{moves} moves were column 4")
    # ---- critic: MCTS with and without the model's self-critique ------------------------------
    if args.critic_games:
        t0 = time.perf_counter()
        crit = {}
        for label, opts in (("MCTS-20", {}), ("MCTS-20 + critic (round-0 model)", {"critic": "llm", "llm": lm,
                                                                                   "critic_mode": "rank"})):
            t1 = time.perf_counter()
            w, c = play(env_kwargs, lambda s, o=opts: MCTSAgent(simulations=20, seed=s, **o), tests[: args.critic_games])
            crit[label] = {"wins": w, "s_per_move": (time.perf_counter() - t1) / max(1, sum(c.values()))}
        summary["critic"] = {k: {"success": sum(v["wins"]) / len(v["wins"]), "s_per_move": v["s_per_move"],
                                 "wins": v["wins"]} for k, v in crit.items()}
        times["critic_s"] = time.perf_counter() - t0
    # ---- rounds: DPO, and the compute-matched SFT control -------------------------------------
    runs = {}
    t_arms = time.perf_counter()
    for learner, (proc, cmd, log) in procs.items():
        code = proc.wait()
        log.close()
        if code != 0:
            raise SystemExit(f"the {learner} arm failed (exit {code}); see {out / f'improve-{learner}.log'}")
        from palaestra.training.loop import RoundResult

        saved = json.loads((out / f"improve-{learner}" / "improve.json").read_text())
        runs[learner] = [RoundResult(**r) for r in saved["rounds"]]
        same = runs[learner][0].successes_by_seed == r0.successes_by_seed
        console.print(f"{learner} arm: its round 0 {'equals' if same else 'DIFFERS FROM'} this script's round 0")
        console.print(rounds_table(runs[learner], title=f"{learner}: round 0 = SFT on search labels"))
        summary[learner] = {"command": cmd, "settings": saved["settings"], "rounds": saved["rounds"],
                            "round0_equal": same}
    if procs:
        times["arms_wait_s"] = time.perf_counter() - t_arms
    for learner in [x for x in ("dpo", "sft") if x not in runs]:
        folder = out / f"improve-{learner}"
        cmd = improve_command(args, sft0, folder, learner)
        console.print(f"[bold]{learner} rounds[/]; the same run from the CLI:\n  {shlex.join(cmd)}")
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        t0 = time.perf_counter()
        settings = settings_from(args, learner)
        rounds = improve(sft0, folder, settings, console=console, start=r0,
                         on_round=lambda r, L=learner: console.print(f"{L} round {r.round}: {r.success:.1%}"))
        console.print(rounds_table(rounds, title=f"{learner}: round 0 = SFT on search labels"))
        times[f"{learner}_rounds_s"] = time.perf_counter() - t0
        runs[learner] = rounds
        summary[learner] = {"command": cmd, "settings": asdict(settings), "rounds": [asdict(r) for r in rounds]}
        (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    # ---- the report ------------------------------------------------------------------------------
    table = Table(title=f"Connect Four vs OpenSpiel MCTS-{args.opponent_sims}: held-out success, {args.test} paired seeds")
    for col in ("policy", "success [95% Wilson]", "vs round 0, pts [paired 95%]", "vs constant 4 [paired 95%]"):
        table.add_column(col, justify="right")
    rows = dict(base_wins)
    for learner in ("dpo", "sft"):
        for r in runs[learner][1:]:
            rows[f"{'DPO' if learner == 'dpo' else 'SFT control'} round {r.round}"] = r.successes_by_seed
    for name, w in rows.items():
        if len(w) < len(r0.successes_by_seed):
            name += f" (first {len(w)} seeds)"
        table.add_row(name, fmt_rate(w), fmt_gain(paired_ci(w, r0.successes_by_seed, args.seed)),
                      fmt_gain(paired_ci(w, base_wins["constant column 4"], args.seed)))
    console.print(table)
    vs = Table(title="DPO against the compute-matched SFT control, same round (paired 95%)")
    for col in ("round", "labelled states", "DPO pairs", "control SFT rows", "DPO - control, pts", "pair audit",
                "reward acc"):
        vs.add_column(col, justify="right")
    for rd, rc in zip(runs["dpo"][1:], runs["sft"][1:]):
        vs.add_row(str(rd.round), f"{rd.labelled_states}/{rc.labelled_states}", str(rd.pairs), str(rc.pairs),
                   fmt_gain(paired_ci(rd.successes_by_seed, rc.successes_by_seed, args.seed)), rd.audit or "-",
                   "-" if rd.reward_accuracy is None else f"{rd.reward_accuracy:.0%}")
    console.print(vs)
    if "critic" in summary:
        for k, v in summary["critic"].items():
            console.print(f"{k}: {fmt_rate(v['wins'])}, {v['s_per_move'] * 1000:.0f} ms/move")
    times["total_s"] = time.perf_counter() - t_start
    summary["baselines"] = {k: {"wins": v, "success": sum(v) / len(v)} for k, v in base_wins.items()}
    summary["times"] = times
    console.print("wall times: " + ", ".join(f"{k} {v:.0f}" for k, v in times.items()))
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    console.print(f"summary: {out / 'summary.json'}")


if __name__ == "__main__":
    main()
