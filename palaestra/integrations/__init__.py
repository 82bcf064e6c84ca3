"""Bridges to the LLM-RL stacks: TRL's GRPO environments (:mod:`.trl`) and OpenEnv
servers (:mod:`.openenv`). Each is optional: import it where its package is installed."""
