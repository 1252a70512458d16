"""A small OpenAI-compatible server on 127.0.0.1 that answers with scripted replies.

Speaks ``POST /v1/chat/completions`` (non-streaming): each request takes the next script
entry; when the script runs out, the ``default`` entry answers. An entry is a dict:
  {"tool": {...arguments...}}           a tool call to `set_request` with these arguments
  {"tool_raw": "..."}                   a tool call whose arguments string is sent verbatim
  {"content": "..."}                    a plain assistant message
  {"ranking": "reverse" | "foreign"}    JSON {"ranking": [...]} built from the request's id enum:
                                        reversed, or naming an id that is not a candidate
  {"status": 500} / {"status": 429}     an HTTP error
  {"body": "..."}                       a raw (e.g. invalid JSON) 200 body
  {"delay": 3.0, ...}                   sleep first (timeouts)
Every request body is kept in ``.requests`` for assertions.
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
    message: dict[str, Any] = {"role": "assistant", "content": entry.get("content")}
    if "ranking" in entry:
        ids = body["response_format"]["json_schema"]["schema"]["properties"]["ranking"]["items"]["enum"]
        ranking = list(reversed(ids)) if entry["ranking"] == "reverse" else [99999, *ids]
        message["content"] = json.dumps({"ranking": ranking})
    if "tool" in entry or "tool_raw" in entry:
        args = entry["tool_raw"] if "tool_raw" in entry else json.dumps(entry["tool"])
        message["tool_calls"] = [{"id": "call_1", "type": "function",
                                  "function": {"name": entry.get("tool_name", "set_request"), "arguments": args}}]
        message["content"] = None
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if "tool_calls" in message else "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }  # fmt: skip
