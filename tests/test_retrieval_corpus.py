"""User corpora (JSONL), token chunking, bm25s and MiniLM retrieval with the on-disk
embedding cache, and the reranker and reader utilities on the real model."""

import json
import os

import gymnasium as gym
import numpy as np
import pytest

import palaestra  # noqa: F401
from palaestra.envs.retrieval.corpus import CorpusError, load_jsonl, write_jsonl
from palaestra.envs.retrieval.problem import build_problem
from palaestra.envs.retrieval.tokens import count_tokens
from palaestra.envs.retrieval.utility import (
    ReaderUtility,
    RerankerUtility,
    rouge_l,
    token_f1,
)
from palaestra.envs.retrieval.world import World
from palaestra.testing import check_env_contract

DOCS = [
    {"id": "cars", "text": "An automobile has four wheels and an engine; people drive it on roads every day."},
    {"id": "bees", "text": "Honeybees collect nectar from flowers and turn it into honey inside the hive."},
    {"id": "tea", "text": "Green tea is made from leaves that are steamed soon after picking, which keeps them green."},
    {"id": "rome", "text": "Rome is the capital of Italy and was founded, according to legend, in 753 BC."},
    {"id": "oslo", "text": "Oslo is the capital of Norway, a city at the head of the Oslofjord."},
    {"id": "piano", "text": "A piano makes sound when felt hammers strike steel strings inside its case."},
    {"id": "long", "text": " ".join(f"Sentence {i} of a long report talks about harbours and shipping lanes." for i in range(30))
     + " The harbour master of Port Vell is Marta Quintana."},
]
QUESTIONS = [
    {"id": "cap-no", "query": "What is the capital of Norway?", "answer": "Oslo", "gold_chunk_ids": ["oslo"]},
    {"id": "rome", "query": "When was Rome founded?", "answer": "753 BC", "gold_chunk_ids": ["rome"]},
    {"id": "harbour", "query": "Who is the harbour master of Port Vell?", "answer": "Marta Quintana",
     "gold_chunk_ids": ["long"]},
]


@pytest.fixture()
def corpus_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PALAESTRA_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "chunks.jsonl").write_text("\n".join(json.dumps(d) for d in DOCS) + "\n")
    (folder / "questions.jsonl").write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n")
    return folder


def test_jsonl_chunked_by_tokens_and_gold_mapped(corpus_dir):
    corpus = load_jsonl(corpus_dir, chunk_tokens=64, overlap=8)
    long_pieces = [c for c in corpus.chunks if c.source == "long"]
    assert len(long_pieces) > 3 and all(c.id.startswith("long#") for c in long_pieces)
    assert all(count_tokens(c.text) <= 64 for c in corpus.chunks)
    harbour = next(q for q in corpus.questions if q.id == "harbour")
    # the gold piece is the one holding the answer, not every piece of the document
    assert len(harbour.gold_chunk_ids) == 1
    assert "Marta Quintana" in corpus.chunks[corpus.index_of(harbour.gold_chunk_ids[0])].text
    assert next(q for q in corpus.questions if q.id == "cap-no").gold_chunk_ids == ("oslo",)


def test_jsonl_errors_name_the_line(tmp_path):
    bad = tmp_path / "chunks.jsonl"
    bad.write_text('{"id": "a", "text": "fine"}\n{"id": "b" "text": "broken"}\n')
    with pytest.raises(CorpusError, match=r"chunks.jsonl:2: not valid JSON"):
        load_jsonl(bad)
    bad.write_text('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n')
    with pytest.raises(ValueError, match="appears twice"):
        load_jsonl(bad)
    bad.write_text('{"id": "a", "text": "x"}\n')
    q = tmp_path / "q.jsonl"
    q.write_text('{"query": "?", "answer": "x", "gold_chunk_ids": ["zzz"]}\n')
    with pytest.raises(ValueError, match="gold chunk id 'zzz'"):
        load_jsonl(bad, q)


def test_loader_reports_every_bad_item_up_front(tmp_path):
    """Regression (issue 16): a non-UTF-8 file gave a bare UnicodeDecodeError, empty
    chunks were dropped silently, and a question without gold ids failed only at the end
    of the first episode. Now the whole corpus is validated before any episode and every
    bad item is named with its file and line."""
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "chunks.jsonl").write_bytes(
        b'{"id": "ok", "text": "Oslo is the capital of Norway."}\n'
        b'{"id": "latin1", "text": "Caf\xe9 au lait."}\n'
        b'{"id": "empty", "text": "   "}\n'
        b'{"id": "other", "text": "Rome is the capital of Italy."}\n')
    (folder / "questions.jsonl").write_text(
        '{"id": "good", "query": "Capital of Norway?", "answer": "Oslo", "gold_chunk_ids": ["ok"]}\n'
        '{"id": "nogold", "query": "Capital of Italy?", "answer": "Rome"}\n'
        '{"id": "noquery", "answer": "x", "gold_chunk_ids": ["ok"]}\n'
        '{"id": "unknown", "query": "?", "answer": "x", "gold_chunk_ids": ["missing"]}\n')
    with pytest.raises(CorpusError) as err:
        gym.make("palaestra/ChunkSelection-v0", corpus=str(folder), utility="gold", budget=64)
    text = str(err.value)
    assert len(err.value.problems) == 5 and text.startswith("5 bad item(s)")
    assert "chunks.jsonl:2: not UTF-8 (byte 0xe9" in text
    assert "chunks.jsonl:3: id 'empty' has an empty text" in text
    assert "questions.jsonl:2: question 'nogold' has no gold_chunk_ids" in text
    assert "questions.jsonl:3: question 'noquery' needs a non-empty string 'query'" in text
    assert "questions.jsonl:4: question 'unknown' gold chunk id 'missing'" in text
    # without utility='gold' (the default is reranker-based) gold ids are optional
    (folder / "chunks.jsonl").write_text('{"id": "ok", "text": "Oslo is the capital of Norway."}\n'
                                         '{"id": "other", "text": "Rome is the capital of Italy."}\n')
    (folder / "questions.jsonl").write_text('{"id": "nogold", "query": "Capital of Italy?", "answer": "Rome"}\n')
    env = gym.make("palaestra/ChunkSelection-v0", corpus=str(folder), top_n=2, budget=64)
    assert env.unwrapped.utility.name == "answer-reranker"
    env.reset(options={"task": "nogold"})
    env.step(env.unwrapped.top_n)


def test_sentence_level_gold_and_chunks_that_fit_the_smallest_budget(tmp_path, monkeypatch):
    """Regression (issue 14): with 128-token chunks, 189 of 239 could not fit a 64-token
    budget, and a gold document whose answer was not found verbatim made every piece
    gold (a 17-token tail with nothing relevant). Now pieces are whole sentences of at
    most 64 tokens by default, gold is found per sentence, and a chunk size over the
    budget is refused."""
    monkeypatch.setenv("PALAESTRA_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "c"
    folder.mkdir()
    report = " ".join(f"Sentence {i} of the report covers harbours and shipping lanes." for i in range(20))
    docs = [{"id": "long", "text": report + " The harbour master of Port Vell is Marta Quintana. " + report},
            {"id": "founding", "text": report + " The city was established by traders in 1142. " + report}]
    qs = [{"id": "harbour", "query": "Who is the harbour master of Port Vell?", "answer": "Marta Quintana",
           "gold_chunk_ids": ["long"]},
          {"id": "when", "query": "When was the city established?", "answer": "the twelfth century",
           "gold_chunk_ids": ["founding"]}]
    (folder / "chunks.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    (folder / "questions.jsonl").write_text("\n".join(json.dumps(q) for q in qs) + "\n")
    corpus = load_jsonl(folder)
    assert all(count_tokens(c.text) <= 64 for c in corpus.chunks)
    for q, needle in zip(corpus.questions, ("Marta Quintana", "established by traders")):
        assert len(q.gold_chunk_ids) == 1  # one piece: the one holding the gold sentence
        assert needle in corpus.chunks[corpus.index_of(q.gold_chunk_ids[0])].text
    env = gym.make("palaestra/ChunkSelection-v0", corpus=str(folder), budget=64, top_n=5)
    env.reset(options={"task": "harbour"})
    assert all(c.cost <= 64 for c in env.unwrapped.problem.candidates)
    with pytest.raises(ValueError, match="chunk_tokens=128 with budget=64"):
        gym.make("palaestra/ChunkSelection-v0", corpus=str(folder), budget=64, chunk_tokens=128)


def test_generated_world_round_trips_through_jsonl(tmp_path):
    w = World(1, n_people=8, n_companies=6, n_cities=4, n_countries=2)
    w.corpus.questions = [w.question(s) for s in range(5)]
    back = load_jsonl(write_jsonl(w.corpus, tmp_path / "w"), chunk_tokens=512)
    assert back.hash == w.corpus.hash
    assert [q.gold_chunk_ids for q in back.questions] == [q.gold_chunk_ids for q in w.corpus.questions]


def test_bm25_and_dense_retrieval_with_cached_embeddings(corpus_dir, tmp_path):
    from palaestra.envs.retrieval.retrievers import cache_dir, get_retriever

    corpus = load_jsonl(corpus_dir)
    bm25 = get_retriever(corpus, "bm25")
    assert corpus.chunks[bm25.search("capital of Norway", 1)[0][0]].id == "oslo"
    dense = get_retriever(corpus, "dense")
    # no word in common with the chunk: only the embeddings can find it
    assert corpus.chunks[dense.search("motor vehicle", 1)[0][0]].id == "cars"
    assert corpus.chunks[dense.search("insects making something sweet", 1)[0][0]].id == "bees"
    cached = cache_dir() / f"{corpus.hash}-all-MiniLM-L6-v2.npy"
    assert cached.exists() and str(cached).startswith(str(tmp_path))
    stamp = os.stat(cached).st_mtime_ns
    from palaestra.envs.retrieval.retrievers import corpus_embeddings

    again = corpus_embeddings(corpus)  # read back, not recomputed
    assert os.stat(cached).st_mtime_ns == stamp and np.allclose(again, dense.emb)
    hybrid = get_retriever(corpus, "hybrid")
    assert corpus.chunks[hybrid.search("capital of Norway", 1)[0][0]].id == "oslo"


def test_reranker_utility_is_carrot_like(corpus_dir):
    corpus = load_jsonl(corpus_dir, chunk_tokens=512)
    from palaestra.envs.retrieval.retrievers import get_retriever

    q = next(q for q in corpus.questions if q.id == "cap-no")
    prob = build_problem(corpus, q, get_retriever(corpus, "bm25"), top_n=7, budget=2000)
    u = RerankerUtility()
    ids = [c.chunk.id for c in prob.candidates]
    oslo, bees, long = ids.index("oslo"), ids.index("bees"), ids.index("long")
    assert u.value(prob, ()) == 0.0
    assert u.value(prob, (oslo,)) > u.value(prob, (bees,))
    assert u.value(prob, (oslo, bees)) < u.value(prob, (oslo,))  # not monotone
    # MiniLM reads 256 tokens: behind a long chunk, the answer chunk is cut off
    assert u.value(prob, (oslo, long)) > u.value(prob, (long, oslo)) + 0.05


class ExtractiveReader:
    """A small real reader (LanguageModel protocol): answers with the context sentence
    that shares the most words with the question, minus those words."""

    usage = {"prompt_tokens": 0, "completion_tokens": 0}

    def generate(self, prompts, n=1, temperature=1.0, max_new_tokens=64, seed=None):
        out = []
        for messages in prompts:
            text = messages[-1]["content"]
            context, _, question = text.partition("\n\nQuestion: ")
            qwords = set(question.lower().replace("?", "").split())
            sents = [s.split("] ", 1)[-1] for s in context.split("\n")[1:]]
            best = max(sents, key=lambda s: len(qwords & set(s.lower().rstrip(".").split())), default="")
            words = [w for w in best.rstrip(".").split() if w.lower() not in qwords]
            out.append([" ".join(words[-2:])] * n)
        return out

    def score(self, prompts, completions):
        return [0.0] * len(completions)


def test_reader_utility_scores_answers_with_f1_and_rouge(corpus_dir):
    assert token_f1("the Oslo", "Oslo") == 1.0 and token_f1("Paris", "Oslo") == 0.0
    assert rouge_l("in 753 BC legend", "753 BC") == pytest.approx(2 * 0.5 * 1.0 / 1.5)
    corpus = load_jsonl(corpus_dir, chunk_tokens=512)
    env = gym.make("palaestra/ChunkSelection-v0", corpus=corpus, utility="reader", llm=ExtractiveReader(),
                   top_n=5, budget=200).unwrapped
    env.reset(options={"task": "rome"})
    ids = [c.chunk.id for c in env.problem.candidates]
    good, bad = ids.index("rome"), ids.index("oslo") if "oslo" in ids else (ids.index("rome") + 1) % len(ids)
    assert env.reward_of((good,)) > env.reward_of((bad,))
    with pytest.raises(ValueError, match="needs a language model"):
        ReaderUtility(None)


def test_user_corpus_env_contract_and_success(corpus_dir):
    report = check_env_contract("palaestra/ChunkSelection-v0", corpus=str(corpus_dir), top_n=4, budget=120,
                                fuzz_examples=150)
    assert report.fuzz_examples >= 50
    env = gym.make("palaestra/ChunkSelection-v0", corpus=str(corpus_dir), top_n=4, budget=120)
    obs, info = env.reset(options={"task": "cap-no"})
    base = env.unwrapped
    assert base.utility.name == "answer-reranker"  # the default for user corpora: not additive, reads the answer
    gold = [i for i, c in enumerate(base.problem.candidates) if c.chunk.id == "oslo"][0]
    other = [i for i, c in enumerate(base.problem.candidates) if c.chunk.id != "oslo"]
    assert base.reward_of((gold,)) > max(base.reward_of((o,)) for o in other)
    assert base.reward_of((gold,)) > base.reward_of((gold, other[0]))  # an off-topic chunk dilutes
    env.step(gold)
    _, r, term, _, info = env.step(base.top_n)
    assert term and info["success"] and r == pytest.approx(base.reward_of((gold,)))
    genv = gym.make("palaestra/ChunkSelection-v0", corpus=str(corpus_dir), top_n=4, budget=120, utility="gold")
    genv.reset(options={"task": "cap-no"})
    g = [i for i, c in enumerate(genv.unwrapped.problem.candidates) if c.chunk.id == "oslo"][0]
    genv.step(g)
    assert genv.step(genv.unwrapped.top_n)[1] == pytest.approx(1.0)


@pytest.mark.slow
def test_reader_utility_with_the_tiny_transformers_model():
    """The reader utility through the agents' LanguageModel back-end (offline tiny GPT-2)."""
    from palaestra.agents.llm import load_lm

    lm = load_lm("tiny")
    env = gym.make("palaestra/ChunkSelection-v0", world_size="small", utility="reader", llm=lm,
                   utility_options={"metric": "rougeL", "max_new_tokens": 8}, top_n=4, budget=80).unwrapped
    env.reset(seed=0)
    seqs = [(), (0,), (0, 1), (1, 0)]
    vals = env.rewards_of(seqs)
    assert all(0.0 <= v <= 1.0 for v in vals)
    assert env.rewards_of(seqs) == vals  # memoised and deterministic (greedy decoding)
    assert all(isinstance(a, str) for a in env.utility.answers.values())
    assert lm.usage["prompt_tokens"] > 0


def test_order_dependent_oracle_searches_sequences(corpus_dir):
    """With the reranker (order matters), the oracle searches sequences, never worse than
    the best single chunk or any order it was shown, and reports whether it proved it."""
    from palaestra.envs.retrieval.oracle import best_sequence
    from palaestra.envs.retrieval.retrievers import get_retriever

    corpus = load_jsonl(corpus_dir, chunk_tokens=512)
    q = next(q for q in corpus.questions if q.id == "cap-no")
    prob = build_problem(corpus, q, get_retriever(corpus, "bm25"), top_n=4, budget=400)
    u = RerankerUtility()
    res = best_sequence(prob, u)
    assert res.proven
    for seq in [(i,) for i in range(prob.n)] + [(0, 1), (1, 0), (2, 0, 1)]:
        if prob.cost(seq) <= prob.budget:
            assert res.value >= u.value(prob, seq) - 1e-9
    capped = best_sequence(prob, u, max_evals=3)
    assert not capped.proven and capped.value <= res.value
