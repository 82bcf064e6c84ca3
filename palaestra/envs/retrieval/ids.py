"""Retrieval env ids and agent names (imports nothing heavy)."""

from palaestra.registration import EnvInfo

ENVS = [
    EnvInfo(
        "palaestra/ChunkSelection-v0",
        "palaestra.envs.retrieval.env:ChunkSelectionEnv",
        "CORAG/CARROT budgeted chunk selection: pick an ordered combination of top-N retrieved chunks "
        "under a token budget, or stop; hidden utility=answer|answer-reranker|gold|reranker|reader, agent-side "
        "proxy agent_utility=pooled|reranker; corpus=synthetic or JSONL; "
        "retriever=bm25|dense|hybrid.",
        "retrieval",
    ),
]

AGENTS = {
    "topk": "palaestra.envs.retrieval.agents:TopKAgent",
    "greedy": "palaestra.envs.retrieval.agents:GreedyAgent",
    "carrot": "palaestra.envs.retrieval.agents:carrot_agent",
}
