"""Learning from recordings: preference pairs, SFT and DPO with TRL, the self-improvement loop.

Pairs (:mod:`.pairs`) are built from recordings without heavy imports; the trainers
(:mod:`.trainers`) import TRL and torch when called; :mod:`.improve` runs the loop
collect (MCTS + critique) -> pairs -> DPO -> evaluate (plain LLM agent, held-out seeds).
"""

from .episodes import read_episodes, write_recording
from .pairs import ExampleSet, PairSet, demo_pairs, episode_pairs, sft_examples, step_pairs

__all__ = ["read_episodes", "write_recording", "PairSet", "ExampleSet", "step_pairs", "episode_pairs", "demo_pairs",
           "sft_examples", "train_dpo", "train_sft", "TrainSettings", "TrainResult", "improve", "ImproveSettings",
           "rounds_table"]


def __getattr__(name):
    if name in ("train_dpo", "train_sft", "TrainSettings", "TrainResult"):
        from . import trainers

        return getattr(trainers, name)
    if name in ("improve", "ImproveSettings", "RoundResult", "rounds_table"):
        from . import loop

        return getattr(loop, name)
    raise AttributeError(name)
