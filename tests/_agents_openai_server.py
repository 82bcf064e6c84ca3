"""A real HTTP server on 127.0.0.1 speaking the OpenAI chat/completions protocol, for tests.

``reply(messages, i)`` gives the i-th choice's text; ``fail_first`` requests answer 503;
``delay`` seconds per request; ``max_inflight`` records the most concurrent requests.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI:
    def __init__(self, reply=None, fail_first: int = 0, delay: float = 0.0, ignore_n: bool = False):
        self.reply = reply or (lambda messages, i: "Action: 4")
        self.fail_first, self.delay, self.ignore_n = fail_first, delay, ignore_n
        self.requests: list[dict] = []
        self.inflight = 0
        self.max_inflight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                    count = len(server.requests)
                    server.inflight += 1
                    server.max_inflight = max(server.max_inflight, server.inflight)
                try:
                    if server.delay:
                        time.sleep(server.delay)
                    if count <= server.fail_first:
                        return self._send(503, {"error": {"message": "overloaded"}}, {"Retry-After": "0"})
                    if self.path.endswith("/chat/completions"):
                        n = 1 if server.ignore_n else int(body.get("n", 1))
                        texts = [server.reply(body["messages"], i) for i in range(n)]
                        payload = {
                            "id": f"cmpl-{count}", "object": "chat.completion", "model": body["model"],
                            "choices": [{"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop"}
                                        for i, t in enumerate(texts)],
                            "usage": {"prompt_tokens": 10, "completion_tokens": 3 * n, "total_tokens": 10 + 3 * n},
                        }
                        return self._send(200, payload)
                    if self.path.endswith("/completions"):
                        # as vLLM does: echoed prompt tokens, a separating space belongs to the token
                        # after it (" 4"), text_offset is where each token starts, then the one
                        # generated token (max_tokens=1) at the end of the text
                        text = body["prompt"]
                        tokens, offsets = [], []
                        for m in re.finditer(r"\s*\S+|\s+$", text):
                            tokens.append(m.group())
                            offsets.append(m.start())
                        # deterministic "log-probs": -0.1 per non-space character of each token
                        lps = [None] + [-0.1 * len(t.strip()) for t in tokens[1:]]
                        tokens, offsets, lps = tokens + ["<gen>"], offsets + [len(text)], lps + [-0.5]
                        payload = {"choices": [{"text": text + "<gen>", "index": 0, "logprobs": {
                            "tokens": tokens, "token_logprobs": lps, "text_offset": offsets}}],
                            "usage": {"prompt_tokens": len(tokens) - 1, "completion_tokens": 1}}
                        return self._send(200, payload)
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                finally:
                    with server._lock:
                        server.inflight -= 1

            def _send(self, code, payload, headers=None):
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
