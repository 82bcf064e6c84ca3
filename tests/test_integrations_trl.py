"""palaestra envs as TRL GRPO environments: typed tools, TRL's own parsing, a real GRPO step."""

import inspect
import os

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

from transformers.utils import get_json_schema  # noqa: E402

from palaestra.integrations.trl import environment_factory, prompts_dataset  # noqa: E402

torch.set_num_threads(1)

ENVS = {
    "palaestra/ConnectFour-v0": {"drop"},
    "palaestra/Chess-v0": {"move"},
    "palaestra/ToolUse-v0": {"calculator", "get_order"},
    "palaestra/WebShop-v0": {"search", "click"},
    "palaestra/Segmentation-v0": {"point", "finish"},
    "palaestra/ChunkSelection-v0": {"add", "stop"},
    "palaestra/BFCL-v0": set(),
}


def _tools(env):
    return {n: getattr(env, n) for n, _ in inspect.getmembers(type(env), predicate=inspect.isfunction)
            if n not in ("reset", "get_reward") and not n.startswith("_")}


@pytest.mark.parametrize("env_id", ENVS)
def test_tools_are_the_envs_grammar_with_valid_schemas(env_id):
    env = environment_factory(env_id)()
    prompt = env.reset(seed=0)
    first_line = env._env.unwrapped.instructions.splitlines()[0]
    assert len(prompt) > 50 and first_line in prompt
    assert '{"type": "function"' not in prompt  # TRL shows the schemas itself
    tools = _tools(env)
    assert ENVS[env_id] | {"act"} <= set(tools), sorted(tools)
    assert not {"close", "done", "success", "transcript"} & set(tools)  # control members are not tools
    for fn in tools.values():
        schema = get_json_schema(fn)  # what TRL shows the model; raises on a missing description
        assert schema["function"]["description"]


def test_tool_calls_step_the_env_and_the_reward_is_the_envs():
    import gymnasium as gym

    import palaestra  # noqa: F401

    env = environment_factory("palaestra/ConnectFour-v0")()
    env.reset(seed=0)
    out = env.drop(column=9)
    assert "does not exist" in out and not env.done  # the env's own error observation
    local = gym.make("palaestra/ConnectFour-v0", text=True)
    local.reset(seed=0)
    total = 0.0
    while not env.done:
        legal = local.unwrapped.legal_actions()
        text = local.unwrapped.format_action(legal[0])
        env.drop(column=int(text))
        _, r, term, trunc, _ = local.step(text)
        total += r
    assert env.get_reward() == total and "episode is over" in env.drop(column=1)


def test_unfinished_episode_does_not_beat_a_lost_one():
    env = environment_factory("palaestra/ConnectFour-v0")()
    env.reset(seed=0)
    assert env.get_reward() == -1.0  # a model that stops calling tools has not won or drawn


def test_trl_parses_a_tool_call_into_our_method():
    from transformers import AutoTokenizer
    from trl.chat_template_utils import add_response_schema, qwen2_5_chat_template

    from palaestra.agents.llm.tiny import tiny_model_path

    tok = AutoTokenizer.from_pretrained(tiny_model_path())
    tok.chat_template = qwen2_5_chat_template
    tok = add_response_schema(tok)
    parsed = tok.parse_response('<tool_call>\n{"name": "add", "arguments": {"chunk": 2}}\n</tool_call><|im_end|>',
                                prefix="")
    call = parsed["tool_calls"][0]["function"]
    env = environment_factory("palaestra/ChunkSelection-v0")()
    env.reset(seed=0)
    out = getattr(env, call["name"])(**call["arguments"])
    assert "Chosen so far: 2" in out or "chosen" in out.lower()


def test_a_real_grpo_step(tmp_path):
    os.environ["TRL_EXPERIMENTAL_SILENCE"] = "1"
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer
    from trl.chat_template_utils import qwen2_5_chat_template

    from palaestra.agents.llm.tiny import tiny_model_path

    tok = AutoTokenizer.from_pretrained(tiny_model_path())
    tok.chat_template = qwen2_5_chat_template
    model = AutoModelForCausalLM.from_pretrained(tiny_model_path())
    before = [p.detach().clone() for p in model.parameters()]
    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, num_generations=4,
                      max_completion_length=16, max_steps=1, use_cpu=True, report_to="none", logging_steps=1,
                      max_tool_calling_iterations=2, save_strategy="no", learning_rate=1e-2, beta=0.0)
    factory = environment_factory("palaestra/ConnectFour-v0")
    trainer = GRPOTrainer(model=model, processing_class=tok, args=args, environment_factory=factory,
                          # a second reward that varies between samples, so the group advantages are not all 0
                          reward_funcs=[lambda completions, **kw: [sum(map(ord, str(c))) % 7 / 7 for c in completions]],
                          train_dataset=prompts_dataset("palaestra/ConnectFour-v0", range(8)))
    trainer.train()
    logs = trainer.state.log_history[0]
    env_reward = f"rewards/{factory.__name__}/mean"
    assert env_reward in logs and logs[env_reward] == -1.0  # no tool calls from a random model: unfinished games
    assert trainer.state.global_step == 1
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))  # the step changed the weights
