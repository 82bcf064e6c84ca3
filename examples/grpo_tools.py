"""GRPO with TRL on palaestra envs: Connect Four and ToolUse-v0 in one run.

The model calls the envs' tools (``drop(column)``; ``get_order(order_id)``, ...,
``act(action)``) and each env's return is the reward (``get_reward``). Runs offline on
the tiny model in a minute on a CPU; pass a real instruct model (a local folder with a
Qwen2.5/Qwen3 chat template) to learn something:

    python examples/grpo_tools.py [MODEL_DIR] [--steps N]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")


def main() -> None:
    from datasets import concatenate_datasets
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer
    from trl.chat_template_utils import qwen2_5_chat_template

    from palaestra.integrations.trl import environment_factory, prompts_dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None, help="a local model folder (default: the tiny model)")
    parser.add_argument("--steps", type=int, default=4, help="GRPO steps")
    parser.add_argument("--out", default="out/grpo", help="output folder")
    parser.add_argument("--tool-turns", type=int, default=3, help="tool calls per rollout at most (the tiny model has 2,048 positions)")
    args = parser.parse_args()

    if args.model is None:
        from palaestra.agents.llm.tiny import tiny_model_path

        args.model = tiny_model_path()
    tok = AutoTokenizer.from_pretrained(args.model)
    if "tool_call" not in (tok.chat_template or ""):
        tok.chat_template = qwen2_5_chat_template  # a template TRL can parse tool calls from
    model = AutoModelForCausalLM.from_pretrained(args.model)

    factories = {"connect_four": environment_factory("palaestra/ConnectFour-v0"),
                 # a few of the 19 tools and no written instructions (the tool schemas carry them),
                 # so that the prompt fits the tiny model's 2,048 positions
                 "tools": environment_factory("palaestra/ToolUse-v0", tier="single", instructions=False,
                                              tools=["get_order", "get_customer", "calculator", "current_date"])}
    data = concatenate_datasets([
        prompts_dataset("palaestra/ConnectFour-v0", range(0, 64), environment="connect_four"),
        prompts_dataset("palaestra/ToolUse-v0", range(0, 64), environment="tools"),
    ]).shuffle(seed=0)
    config = GRPOConfig(output_dir=args.out, per_device_train_batch_size=4, num_generations=4,
                        max_completion_length=64, max_steps=args.steps, logging_steps=1, report_to="none",
                        max_tool_calling_iterations=args.tool_turns, save_strategy="no", use_cpu=not _has_gpu())
    trainer = GRPOTrainer(model=model, processing_class=tok, args=config, train_dataset=data,
                          environment_factory=factories)
    trainer.train()
    for row in trainer.state.log_history:
        rewards = {k.split("/")[1]: round(v, 3) for k, v in row.items()
                   if k.startswith("rewards/") and k.endswith("/mean") and v is not None and v == v}
        if rewards:
            print(f"step {row.get('step')}: mean reward {rewards}, "
                  f"tool calls per rollout {row.get('tools/call_frequency') or 0:.2f}")


def _has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


if __name__ == "__main__":
    main()
