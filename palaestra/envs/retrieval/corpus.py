"""Chunks, questions and corpora; the JSONL format for user corpora.

User corpora are two JSONL files (one JSON object a line)::

    chunks.jsonl     {"id": "doc-1", "text": "..."}                  # documents or chunks
    questions.jsonl  {"query": "...", "answer": "...", "gold_chunk_ids": ["doc-1"]}
                     (optional "id" and "type" fields)

``load_jsonl(chunks, questions, chunk_tokens=128, overlap=16)`` cuts every text longer
than ``chunk_tokens`` tokens into pieces ``doc-1#0``, ``doc-1#1``, ... A piece is gold
when it comes from a gold id and contains the answer (case-insensitive); when no piece
of a gold id contains the answer, all its pieces are gold.
"""

from __future__ import annotations

import hashlib
import json
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


def _read_jsonl(path: Path, what: str) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg}); each line of {what} is one object") from exc
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{n}: expected a JSON object, got {type(row).__name__}")
            rows.append(row)
    return rows


def load_jsonl(chunks_path, questions_path=None, *, chunk_tokens: int = 128, overlap: int = 16,
               name: str | None = None) -> Corpus:
    """Read a user corpus (see the module docstring for the format).

    ``chunks_path`` may also be a folder holding ``chunks.jsonl`` and ``questions.jsonl``.
    """
    from .tokens import split_by_tokens

    chunks_path = Path(chunks_path)
    if chunks_path.is_dir():
        folder = chunks_path
        chunks_path = folder / "chunks.jsonl"
        if questions_path is None and (folder / "questions.jsonl").exists():
            questions_path = folder / "questions.jsonl"
    if not chunks_path.exists():
        raise FileNotFoundError(f"{chunks_path} does not exist; give a chunks.jsonl of {{'id', 'text'}} lines")
    docs = _read_jsonl(chunks_path, "chunks")
    chunks: list[Chunk] = []
    pieces_of: dict[str, list[str]] = {}
    seen = set()
    for n, row in enumerate(docs, 1):
        if "text" not in row or not isinstance(row["text"], str):
            raise ValueError(f"{chunks_path}: line {n} has no string 'text' field (need {{'id', 'text'}})")
        doc_id = str(row.get("id", f"doc-{n}"))
        if doc_id in seen:
            raise ValueError(f"{chunks_path}: id {doc_id!r} appears twice; chunk ids must be unique")
        seen.add(doc_id)
        parts = split_by_tokens(row["text"], chunk_tokens, overlap)
        ids = [doc_id] if len(parts) == 1 else [f"{doc_id}#{i}" for i in range(len(parts))]
        pieces_of[doc_id] = ids
        chunks.extend(Chunk(cid, text, kind="user", source=doc_id) for cid, text in zip(ids, parts))
    if not chunks:
        raise ValueError(f"{chunks_path} holds no text")
    questions: list[Question] = []
    if questions_path is not None:
        by_id = {c.id: c for c in chunks}
        for n, row in enumerate(_read_jsonl(Path(questions_path), "questions"), 1):
            if not isinstance(row.get("query"), str):
                raise ValueError(f"{questions_path}: line {n} needs a string 'query'")
            answer = str(row.get("answer", ""))
            gold_docs = [str(g) for g in row.get("gold_chunk_ids", [])]
            gold: list[str] = []
            for g in gold_docs:
                if g in by_id:  # a piece id given directly
                    gold.append(g)
                    continue
                if g not in pieces_of:
                    raise ValueError(f"{questions_path}: line {n}: gold chunk id {g!r} is not in {chunks_path}")
                pieces = pieces_of[g]
                hit = [p for p in pieces if answer and answer.lower() in by_id[p].text.lower()]
                gold.extend(hit or pieces)
            questions.append(Question(id=str(row.get("id", f"u{n - 1}")), query=row["query"], answer=answer,
                                      qtype=str(row.get("type", "user")), gold_chunk_ids=tuple(gold)))
    return Corpus(name or chunks_path.parent.name or "user", chunks, questions)


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
                                 "gold_chunk_ids": list(q.gold_chunk_ids)}) + "\n")
    return folder
