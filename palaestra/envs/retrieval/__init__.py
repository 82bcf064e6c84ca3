"""Retrieval chunk selection: CORAG/CARROT's budgeted chunk-combination MDP.

A query, top-N candidate chunks from a first-stage retriever (bm25s or MiniLM
embeddings), a token budget: choose an ordered combination of chunks, or stop.
Utility is pluggable (answer-based on generated worlds, a MiniLM reranker, a reader LLM).

Modules: ``world`` (seeded multi-hop worlds), ``corpus`` (chunks, questions, JSONL user
corpora), ``tokens`` (token costs), ``retrievers`` (bm25s, dense, hybrid; cached
embeddings), ``utility`` (answer, gold, reranker, reader), ``problem`` (one task: query +
candidates), ``oracle`` (branch-and-bound), ``env`` (``palaestra/ChunkSelection-v0``),
``agents`` (``topk``, ``greedy``, ``carrot``). This package imports nothing heavy.
"""
