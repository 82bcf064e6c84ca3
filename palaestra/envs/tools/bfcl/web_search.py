"""BFCL's web-search functions answered offline, from a local corpus indexed with bm25s.

BFCL's ``WebSearchAPI`` sends ``search_engine_query`` to SerpAPI (DuckDuckGo) and
``fetch_url_content`` to the live web. :class:`OfflineWebSearch` has the same two
functions, the same arguments and the same result shapes (a list of ``{"title", "href",
"body"}``, without ``body`` in the no-snippet category; ``{"content": ...}`` or
``{"error": ...}``), answered from a :class:`LocalCorpus`:

- a folder of ``.txt``, ``.md``, ``.html``/``.htm`` files (a file whose first line is
  ``URL: https://...`` is served at that address, any other at
  ``https://local.corpus/<relative path>``; the title is the HTML ``<title>`` or the first
  non-empty line), or
- a ``.jsonl`` file of ``{"url": ..., "title": ..., "text": ...}`` records.

The whole corpus is checked when it is loaded and every bad item is reported by name.
Scores are not comparable with BFCL's live-web numbers: the pages differ. The protocol
(the functions, the final-answer check) is BFCL's.
"""

from __future__ import annotations

import functools
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

MAX_DOCUMENTS = 200_000
MAX_CORPUS_CHARS = 500_000_000
MAX_KEYWORDS = 1_000
MAX_RESULTS = 50
MAX_CONTENT = 200_000  # characters of a page returned by fetch_url_content
LOCAL_PREFIX = "https://local.corpus/"


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self.title, self._skip, self._in_title = [], "", 0, False

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        self._in_title = False

    def handle_data(self, data):
        if self._in_title and not self.title:
            self.title = data.strip()
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def html_text(raw: str) -> tuple[str, str]:
    """(title, text) of an HTML page: scripts and styles removed, one text node a line."""
    parser = _Text()
    parser.feed(raw)
    return parser.title, "\n".join(parser.parts)


class LocalCorpus:
    """Documents ``{"url", "title", "raw", "text"}`` and their bm25s index."""

    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser().resolve()
        self.documents = self._load(self.path)
        import bm25s

        self._bm25 = bm25s.BM25()
        self._bm25.index(bm25s.tokenize([d["title"] + "\n" + d["text"] for d in self.documents],
                                        stopwords="en", show_progress=False), show_progress=False)
        self.by_url = {d["url"]: d for d in self.documents}

    @staticmethod
    def _load(path: Path) -> list[dict]:
        if not path.exists():
            raise FileNotFoundError(f"web_corpus {str(path)!r} does not exist: pass a folder of .txt/.md/.html files "
                                    "or a .jsonl file of {\"url\", \"title\", \"text\"} records.")
        docs, bad = [], []
        if path.is_file():
            if path.suffix != ".jsonl":
                raise ValueError(f"web_corpus {str(path)!r}: a file corpus is .jsonl; a folder holds .txt/.md/.html.")
            with open(path, encoding="utf-8", errors="strict") as fh:
                try:
                    lines = fh.read().splitlines()
                except UnicodeDecodeError as exc:
                    raise ValueError(f"web_corpus {str(path)!r} is not UTF-8 ({exc}).") from None
            for n, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    url, title, text = record["url"], record.get("title", ""), record["text"]
                    if not (isinstance(url, str) and url.startswith(("http://", "https://"))
                            and isinstance(title, str) and isinstance(text, str) and text.strip()):
                        raise ValueError("url must be http(s), title and text strings, text not empty")
                except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                    bad.append(f"line {n}: {exc}")
                    continue
                docs.append({"url": url, "title": title, "raw": text, "text": text})
        else:
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in
                           (".txt", ".md", ".html", ".htm"))
            for file in files:
                try:
                    raw = file.read_text(encoding="utf-8")
                except (UnicodeDecodeError, OSError) as exc:
                    bad.append(f"{file.relative_to(path)}: {exc}")
                    continue
                url = LOCAL_PREFIX + file.relative_to(path).as_posix()
                first, _, rest = raw.partition("\n")
                if first.startswith("URL: "):
                    url, raw = first[5:].strip(), rest
                if file.suffix.lower() in (".html", ".htm"):
                    title, text = html_text(raw)
                else:
                    text = raw
                    title = next((line.strip().lstrip("# ") for line in raw.splitlines() if line.strip()), "")
                if not text.strip():
                    bad.append(f"{file.relative_to(path)}: no text")
                    continue
                docs.append({"url": url, "title": title or file.stem, "raw": raw, "text": text})
        if bad:
            shown = "; ".join(bad[:20]) + (f"; and {len(bad) - 20} more" if len(bad) > 20 else "")
            raise ValueError(f"web_corpus {str(path)!r} has {len(bad)} bad item(s): {shown}. Fix or remove them.")
        if not docs:
            raise ValueError(f"web_corpus {str(path)!r} holds no document (.txt/.md/.html files or .jsonl records).")
        if len(docs) > MAX_DOCUMENTS or sum(len(d["raw"]) for d in docs) > MAX_CORPUS_CHARS:
            raise ValueError(f"web_corpus {str(path)!r} is larger than {MAX_DOCUMENTS} documents or "
                             f"{MAX_CORPUS_CHARS} characters.")
        return docs

    def search(self, keywords: str, k: int) -> list[dict]:
        import bm25s

        tokens = bm25s.tokenize([keywords], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        k = min(k, len(self.documents))
        ids, scores = self._bm25.retrieve(tokens, k=k, show_progress=False)
        return [self.documents[int(i)] for i, s in zip(ids[0], scores[0]) if s > 0]


@functools.lru_cache(maxsize=4)
def load_corpus(path: str) -> LocalCorpus:
    return LocalCorpus(path)


def _snippet(doc: dict, keywords: str, width: int = 240) -> str:
    words = [w for w in re.findall(r"\w\w+", keywords.lower())]
    text = " ".join(doc["text"].split())
    low = text.lower()
    at = min((low.find(w) for w in words if low.find(w) >= 0), default=0)
    start = max(0, at - width // 3)
    return ("..." if start else "") + text[start:start + width] + ("..." if start + width < len(text) else "")


class OfflineWebSearch:
    """BFCL's ``WebSearchAPI`` functions over a :class:`LocalCorpus`."""

    def __init__(self, corpus_path: str, show_snippet: bool = True):
        self.corpus_path = str(corpus_path)
        self.show_snippet = bool(show_snippet)

    def __reduce__(self):  # snapshots keep the corpus path, not the index
        return (OfflineWebSearch, (self.corpus_path, self.show_snippet))

    def search_engine_query(self, keywords: str, max_results: int | None = 10, region: str | None = "wt-wt"):
        """The corpus's best matches for ``keywords`` (bm25), as BFCL's search results."""
        if not isinstance(keywords, str) or not keywords.strip():
            return {"error": "keywords must be a non-empty string"}
        if len(keywords) > MAX_KEYWORDS:
            return {"error": f"keywords are {len(keywords)} characters long; at most {MAX_KEYWORDS}"}
        if max_results is None:
            max_results = 10
        if not isinstance(max_results, int) or isinstance(max_results, bool):
            return {"error": "max_results must be an integer"}
        max_results = max(0, min(max_results, MAX_RESULTS))
        results = []
        for doc in load_corpus(self.corpus_path).search(keywords, max_results):
            item = {"title": doc["title"], "href": doc["url"]}
            if self.show_snippet:
                item["body"] = _snippet(doc, keywords)
            results.append(item)
        return results

    def fetch_url_content(self, url: str, mode: str = "raw"):
        """A corpus page by address: ``raw`` as stored, ``markdown``/``truncate`` as text."""
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"Invalid URL: {url}")
        if mode not in ("raw", "markdown", "truncate"):
            return {"error": f"An error occurred while fetching {url}: Unsupported mode: {mode}"}
        doc = load_corpus(self.corpus_path).by_url.get(url)
        if doc is None:
            return {"error": f"An error occurred while fetching {url}: 404 Client Error: Not Found for url: {url} "
                             "(the offline corpus has no such page)"}
        content = doc["raw"] if mode == "raw" else html.unescape(doc["text"])
        if len(content) > MAX_CONTENT:
            content = content[:MAX_CONTENT] + f"\n[... {len(content) - MAX_CONTENT} more characters]"
        return {"content": content}
