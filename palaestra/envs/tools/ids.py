"""Tool-use env ids (imports nothing heavy)."""

from palaestra.registration import EnvInfo

ENVS = [
    EnvInfo("palaestra/ToolUse-v0", "palaestra.envs.tools.env:ToolUseEnv",
            "Tool use in a sandboxed shop world (SQL, calendar, knowledge base, units, calculator); "
            "600 seeded tasks in 5 tiers (tier=single|sequence|dependent|state|refuse).", "tools"),
    EnvInfo("palaestra/BFCL-v0", "palaestra.envs.tools.bfcl.env:BFCLEnv",
            "BFCL v4 (bfcl-eval's data) as episodes, BFCL's protocol (protocol=bfcl|strict): category=simple|simple_java|simple_javascript|multiple|parallel|parallel_multiple|"
            "irrelevance|live_*|multi_turn_base|multi_turn_miss_func|multi_turn_miss_param|"
            "multi_turn_long_context; BFCL's AST and state checks.", "tools"),
]
