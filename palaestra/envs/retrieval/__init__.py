"""Retrieval chunk selection: CORAG/CARROT's budgeted chunk-combination MDP.

A query, top-N candidate chunks from a first-stage retriever (bm25s or MiniLM
embeddings), a token budget: choose an ordered combination of chunks, or stop.
The scorer's utility is hidden from agents (answer-based on generated worlds, reranker-
based with the gold answer on user corpora); agents see only the agent-side view
(``planning``) and search on a MiniLM reranker proxy or a learned value model.

Modules: ``world`` (seeded multi-hop worlds), ``corpus`` (chunks, questions, JSONL user
corpora), ``tokens`` (token costs), ``retrievers`` (bm25s, dense, hybrid; cached
embeddings), ``utility`` (answer, gold, reranker, reader), ``problem`` (one task: query +
candidates), ``oracle`` (branch-and-bound), ``env`` (``palaestra/ChunkSelection-v0``),
``planning`` (the agent-side view: what an agent may use), ``value_model`` (a learned
value of sequences, trained on the train split), ``agents`` (``topk``, ``greedy``,
``carrot``). This package imports nothing heavy.
"""
