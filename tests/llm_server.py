"""A small OpenAI-compatible server on 127.0.0.1 that answers with scripted replies.

Speaks ``POST /v1/chat/completions`` and ``POST /v1/completions`` (non-streaming): each request
takes the next script entry; when the script runs out, the ``default`` entry answers. An entry:
  {"calls": [{"name": "recommend", "arguments": {...}}, ...]}   native tool calls
  {"tool_raw": "...", "tool_name": "recommend"}                 a tool call whose arguments are sent verbatim
  {"plan": {"steps": [...]}}                                    a JSON plan as the answer's text
  {"content": "..."}                                            a plain answer (message content, or completion text)
  {"status": 500} / {"status": 429}                             an HTTP error
  {"body": "..."}                                               a raw (e.g. invalid JSON) 200 body
  {"delay": 3.0, ...}                                           sleep first (timeouts)
Every request body is kept in ``.requests`` (with its ``_path``) for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ScriptedLLM:
    def __init__(self, script: list[dict[str, Any]] | None = None, default: dict[str, Any] | None = None):
        self.script = list(script or [])
        self.default = default or {"content": "ok"}
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                body["_path"] = self.path
                with owner._lock:
                    owner.requests.append(body)
                    entry = owner.script.pop(0) if owner.script else owner.default
                if entry.get("delay"):
                    time.sleep(entry["delay"])
                if "status" in entry:
                    self._send(entry["status"], json.dumps({"error": {"message": "scripted error"}}).encode())
                elif "body" in entry:
                    self._send(200, entry["body"].encode())
                else:
                    self._send(200, json.dumps(_completion(body.get("model", "m"), entry, body)).encode())

            def _send(self, status: int, payload: bytes):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out first
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> ScriptedLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _completion(model: str, entry: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(entry["plan"]) if "plan" in entry else entry.get("content")
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    if body["_path"].endswith("/completions") and not body["_path"].endswith("/chat/completions"):
        return {"id": "cmpl-test", "object": "text_completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "text": text or "", "finish_reason": "stop"}], "usage": usage}
    message: dict[str, Any] = {"role": "assistant", "content": text}
    calls = entry.get("calls") or []
    if "tool_raw" in entry:
        calls = [{"name": entry.get("tool_name", "recommend"), "raw": entry["tool_raw"]}]
    if calls:
        message["tool_calls"] = [{"id": f"call_{n}", "type": "function",
                                  "function": {"name": c["name"], "arguments": c.get("raw") or json.dumps(c["arguments"])}}
                                 for n, c in enumerate(calls)]
        message["content"] = None
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": usage,
    }  # fmt: skip
