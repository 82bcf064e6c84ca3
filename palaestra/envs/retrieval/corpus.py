"""Chunks, questions and corpora; the JSONL format for user corpora.

User corpora are two JSONL files (one JSON object a line)::

    chunks.jsonl     {"id": "doc-1", "text": "..."}                  # documents or chunks
    questions.jsonl  {"query": "...", "answer": "...", "gold_chunk_ids": ["doc-1"]}
                     (optional "id", "type" and "split": "train" | "test", default test)

``load_jsonl(chunks, questions, chunk_tokens=64)`` cuts every text longer than
``chunk_tokens`` tokens into pieces of whole sentences ``doc-1#0``, ``doc-1#1``, ...
Gold is found per sentence: a piece is gold when it holds a sentence of a gold document
that contains the answer (case-insensitive), or, when no sentence does, the sentence
sharing the most words with the question and answer. Both files are validated in full
first; every bad line is reported by file, line and id.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str
    #: fact keys the chunk states correctly / wrongly (generated worlds only)
    supports: tuple[str, ...] = ()
    contradicts: tuple[str, ...] = ()
    #: fact | duplicate | profile | distractor | contradiction | user
    kind: str = "user"
    #: the document a user chunk was cut from
    source: str = ""


@dataclass(frozen=True)
class Question:
    id: str
    query: str
    answer: str
    qtype: str = "factoid"  # factoid | multihop | comparison | list | user
    facts: tuple[str, ...] = ()  # fact keys the answer needs (generated worlds)
    gold_chunk_ids: tuple[str, ...] = ()
    answer_items: tuple[str, ...] = ()  # list questions: one item per fact
    hops: int = 1
    split: str = "train"  # train | test (user corpora: the "split" field, default test)


@dataclass
class Corpus:
    name: str
    chunks: list[Chunk]
    questions: list[Question] = field(default_factory=list)
    _index: dict[str, int] | None = field(default=None, repr=False)
    _hash: str | None = field(default=None, repr=False)
    _costs: list[int] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.chunks)

    def index_of(self, chunk_id: str) -> int:
        if self._index is None:
            self._index = {c.id: i for i, c in enumerate(self.chunks)}
        try:
            return self._index[chunk_id]
        except KeyError:
            raise KeyError(f"chunk id {chunk_id!r} is not in corpus {self.name!r}") from None

    @property
    def hash(self) -> str:
        """sha256 of the chunk ids and texts: the key of cached embeddings and indexes."""
        if self._hash is None:
            h = hashlib.sha256()
            for c in self.chunks:
                h.update(c.id.encode())
                h.update(b"\x00")
                h.update(c.text.encode())
                h.update(b"\x01")
            self._hash = h.hexdigest()[:24]
        return self._hash

    @property
    def costs(self) -> list[int]:
        """Token cost of every chunk (MiniLM WordPiece tokens, no special tokens)."""
        if self._costs is None:
            from .tokens import count_many

            self._costs = count_many([c.text for c in self.chunks])
        return self._costs

    @property
    def texts(self) -> list[str]:
        return [c.text for c in self.chunks]


#: bounds on what a user corpus may hold (checked where the files are read)
MAX_LINE_BYTES = 4_000_000
MAX_ROWS = 2_000_000
_SENTENCE = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9\"'(\[])")


class CorpusError(ValueError):
    """A user corpus with bad items; ``problems`` lists every one as ``file:line: what``."""

    def __init__(self, problems: list[str], what: str = "corpus"):
        self.problems = list(problems)
        shown = self.problems[:40]
        more = f"\n  ... and {len(self.problems) - 40} more" if len(self.problems) > 40 else ""
        super().__init__(f"{len(self.problems)} bad item(s) in the {what}; fix them and load again:\n  "
                         + "\n  ".join(shown) + more)


def _read_jsonl(path: Path, what: str, problems: list[str]) -> list[tuple[int, dict]]:
    """Every object line of ``path`` with its line number; a bad line (not UTF-8, not JSON,
    not an object, too long) is added to ``problems`` by file and line, and skipped, so
    that one pass reports them all."""
    rows = []
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            if len(raw) > MAX_LINE_BYTES:
                problems.append(f"{path}:{n}: line of {len(raw):,} bytes, over the limit of {MAX_LINE_BYTES:,}; "
                                "split the document into several lines")
                continue
            if n > MAX_ROWS:
                problems.append(f"{path}: more than {MAX_ROWS:,} lines; split the corpus")
                break
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                problems.append(f"{path}:{n}: not UTF-8 (byte {raw[exc.start]:#04x} at column {exc.start + 1}); "
                                "save the file as UTF-8")
                continue
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{n}: not valid JSON ({exc.msg}); each line of {what} is one object")
                continue
            if not isinstance(row, dict):
                problems.append(f"{path}:{n}: expected a JSON object, got {type(row).__name__}")
                continue
            rows.append((n, row))
    return rows


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (split after ., ! or ? followed by a capital or a digit)."""
    return [s.strip() for s in _SENTENCE.split(" ".join(text.split())) if s.strip()]


def pack_sentences(text: str, size: int) -> list[tuple[str, list[str]]]:
    """Cut ``text`` into pieces of at most ``size`` tokens made of whole sentences (a
    sentence longer than ``size`` is cut at token boundaries on its own). Returns each
    piece with the sentences it holds (a cut sentence appears in each of its pieces)."""
    from .tokens import count_many, split_by_tokens

    if not text.strip():
        return []
    if count_many([text])[0] <= size:  # fits whole: keep it as written
        return [(text.strip(), split_sentences(text))]
    sents = split_sentences(text)
    costs = count_many(sents)
    pieces: list[tuple[str, list[str]]] = []
    cur: list[str] = []
    cur_cost = 0
    for sent, cost in zip(sents, costs):
        if cost > size:
            if cur:
                pieces.append((" ".join(cur), list(cur)))
                cur, cur_cost = [], 0
            pieces.extend((part, [sent]) for part in split_by_tokens(sent, size, 0))
            continue
        # +1: the joining space may merge into a neighbouring word piece; keep a margin
        if cur and cur_cost + cost + 1 > size:
            pieces.append((" ".join(cur), list(cur)))
            cur, cur_cost = [], 0
        cur.append(sent)
        cur_cost += cost + (1 if len(cur) > 1 else 0)
    if cur:
        pieces.append((" ".join(cur), list(cur)))
    # a merged piece may still exceed the size by tokenisation at the joins: re-cut it
    out = []
    for text_, ss in pieces:
        parts = split_by_tokens(text_, size, 0) if count_many([text_])[0] > size else [text_]
        out.extend((p, ss) for p in parts)
    return out


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def load_jsonl(chunks_path, questions_path=None, *, chunk_tokens: int = 64, overlap: int = 0,
               name: str | None = None, require_gold: bool = False, require_answer: bool = True) -> Corpus:
    """Read a user corpus (see the module docstring for the format).

    ``chunks_path`` may also be a folder holding ``chunks.jsonl`` and ``questions.jsonl``.
    Both files are validated in full before anything is returned: every bad line or item
    (not UTF-8, not JSON, no text, an empty text, a duplicate id; a question without a
    query, without an answer when ``require_answer``, without gold ids when
    ``require_gold``, or naming an unknown id) is reported by file, line and id in one
    :class:`CorpusError`.

    Texts are cut into pieces of whole sentences of at most ``chunk_tokens`` tokens
    (``overlap`` > 0 instead cuts at token boundaries with that many tokens shared, the
    old way). Gold is found at the sentence level: in each gold document the sentences
    that contain the answer (case-insensitive), or, when none does, the one sentence
    sharing the most words with the question and answer; the gold pieces are those
    holding a gold sentence. A gold id that names a piece (``doc-1#2``) is taken as is.
    """
    from .tokens import split_by_tokens

    chunk_tokens = int(chunk_tokens)
    if not 1 <= chunk_tokens <= 512:
        raise ValueError(f"chunk_tokens={chunk_tokens}: use 1..512 (MiniLM reads 256 tokens; keep it at or below "
                         "the smallest budget you will run)")
    chunks_path = Path(chunks_path)
    if chunks_path.is_dir():
        folder = chunks_path
        chunks_path = folder / "chunks.jsonl"
        if questions_path is None and (folder / "questions.jsonl").exists():
            questions_path = folder / "questions.jsonl"
    if not chunks_path.exists():
        raise FileNotFoundError(f"{chunks_path} does not exist; give a chunks.jsonl of {{'id', 'text'}} lines")
    problems: list[str] = []
    docs = _read_jsonl(chunks_path, "chunks", problems)
    chunks: list[Chunk] = []
    pieces_of: dict[str, list[str]] = {}
    sentences_of: dict[str, list[list[str]]] = {}
    seen: dict[str, int] = {}
    for n, row in docs:
        text = row.get("text")
        doc_id = str(row.get("id", f"doc-{n}"))
        if not isinstance(text, str):
            problems.append(f"{chunks_path}:{n}: id {doc_id!r} has no string 'text' field (need {{'id', 'text'}})")
            continue
        if not text.strip():
            problems.append(f"{chunks_path}:{n}: id {doc_id!r} has an empty text; drop the line or give it text")
            continue
        if doc_id in seen:
            problems.append(f"{chunks_path}:{n}: id {doc_id!r} appears twice (first on line {seen[doc_id]}); "
                            "chunk ids must be unique")
            continue
        seen[doc_id] = n
        if overlap:
            parts = [(p, [p]) for p in split_by_tokens(text, chunk_tokens, int(overlap))]
        else:
            parts = pack_sentences(text, chunk_tokens)
        ids = [doc_id] if len(parts) == 1 else [f"{doc_id}#{i}" for i in range(len(parts))]
        pieces_of[doc_id] = ids
        sentences_of[doc_id] = [ss for _, ss in parts]
        chunks.extend(Chunk(cid, p, kind="user", source=doc_id) for cid, (p, _) in zip(ids, parts))
    if not chunks and not problems:
        problems.append(f"{chunks_path}: holds no text")
    questions: list[Question] = []
    if questions_path is not None:
        questions_path = Path(questions_path)
        if not questions_path.exists():
            raise FileNotFoundError(f"{questions_path} does not exist; give a questions.jsonl of "
                                    "{'query', 'answer', 'gold_chunk_ids'} lines")
        by_id = {c.id: c for c in chunks}
        qids: dict[str, int] = {}
        for k, (n, row) in enumerate(_read_jsonl(questions_path, "questions", problems)):
            qid = str(row.get("id", f"u{k}"))
            where = f"{questions_path}:{n}: question {qid!r}"
            query, answer = row.get("query"), row.get("answer", "")
            bad = []
            if not isinstance(query, str) or not query.strip():
                bad.append("needs a non-empty string 'query'")
            if not isinstance(answer, (str, int, float)) or isinstance(answer, bool):
                bad.append("'answer' must be a string")
                answer = ""
            answer = str(answer).strip()
            if require_answer and not answer:
                bad.append("has no 'answer' (the default utility and the reader score against it)")
            gold_docs = row.get("gold_chunk_ids", [])
            if not isinstance(gold_docs, list):
                bad.append("'gold_chunk_ids' must be a list of chunk ids")
                gold_docs = []
            if require_gold and not gold_docs:
                bad.append("has no gold_chunk_ids (utility='gold' needs them; or use utility='answer-reranker')")
            if qid in qids:
                bad.append(f"repeats the id of line {qids[qid]}")
            split = str(row.get("split", "test"))
            if split not in ("train", "test"):
                bad.append(f"has split {split!r}; use 'train' or 'test' (default test)")
            qids.setdefault(qid, n)
            gold: list[str] = []
            for g in map(str, gold_docs):
                if g in by_id and by_id[g].source != g:  # a piece id given directly
                    gold.append(g)
                    continue
                if g not in pieces_of:
                    bad.append(f"gold chunk id {g!r} is not in {chunks_path}")
                    continue
                gold.extend(_gold_pieces(pieces_of[g], sentences_of[g], str(query or ""), answer))
            if bad:
                problems.extend(f"{where} {b}" for b in bad)
                continue
            questions.append(Question(id=qid, query=query, answer=answer, qtype=str(row.get("type", "user")),
                                      gold_chunk_ids=tuple(dict.fromkeys(gold)), split=split))
    if problems:
        raise CorpusError(problems, f"corpus {chunks_path.parent}")
    return Corpus(name or chunks_path.parent.name or "user", chunks, questions)


def _gold_pieces(ids: list[str], sentences: list[list[str]], query: str, answer: str) -> list[str]:
    """The pieces of one gold document holding a gold sentence (see ``load_jsonl``)."""
    flat = [s for ss in sentences for s in ss]
    low = answer.lower()
    gold = {s for s in flat if low and low in s.lower()}
    if not gold and flat:
        want = _words(query) | _words(answer)
        best = max(flat, key=lambda s: (len(want & _words(s)), -flat.index(s)))
        gold = {best}
    return [pid for pid, ss in zip(ids, sentences) if gold & set(ss)]


def write_jsonl(corpus: Corpus, folder) -> Path:
    """Write ``corpus`` in the JSONL format (chunks.jsonl, questions.jsonl) under ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "chunks.jsonl", "w", encoding="utf-8") as fh:
        for c in corpus.chunks:
            fh.write(json.dumps({"id": c.id, "text": c.text}) + "\n")
    with open(folder / "questions.jsonl", "w", encoding="utf-8") as fh:
        for q in corpus.questions:
            fh.write(json.dumps({"id": q.id, "query": q.query, "answer": q.answer, "type": q.qtype,
                                 "gold_chunk_ids": list(q.gold_chunk_ids), "split": q.split}) + "\n")
    return folder
