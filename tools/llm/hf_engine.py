"""The transformers engine: Gemma on CPU in fp32, greedy, JSON-schema constrained (llguidance), KV prefix cache."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from tools.llm import hf_model
from tools.llm.constrained import compile_schema, decode, token_table


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" or "length"
    reused_tokens: int  # prompt tokens whose keys/values came from the previous request
    seconds: float
    prefill_seconds: float

    def timings(self) -> dict[str, float]:
        """llama-server's ``timings`` fields, so one client reads both engines."""
        prompt_n = self.prompt_tokens - self.reused_tokens
        prompt_ms = 1000 * self.prefill_seconds
        predicted_ms = 1000 * (self.seconds - self.prefill_seconds)
        return {"cache_n": self.reused_tokens, "prompt_n": prompt_n, "prompt_ms": round(prompt_ms, 1),
                "prompt_per_second": round(1000 * prompt_n / prompt_ms, 1) if prompt_ms else 0.0,
                "predicted_n": self.completion_tokens, "predicted_ms": round(predicted_ms, 1),
                "predicted_per_second": round(1000 * self.completion_tokens / predicted_ms, 1) if predicted_ms else 0.0}


def gemma_chat(messages: list[dict[str, Any]]) -> str:
    """Gemma's turn format; the base model's GGUF carries no chat template. Gemma has no system
    role: a system message opens the first user turn, as in the instruction-tuned template."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    turns = []
    for m in messages:
        if m["role"] == "system":
            continue
        role = "model" if m["role"] == "assistant" else "user"
        content = m["content"]
        if system and role == "user":
            content, system = f"{system}\n\n{content}", ""
        turns.append(f"<start_of_turn>{role}\n{content}<end_of_turn>\n")
    if system:
        turns.insert(0, f"<start_of_turn>user\n{system}<end_of_turn>\n")
    return "<bos>" + "".join(turns) + "<start_of_turn>model\n"


class GemmaEngine:
    """One model, one request at a time (a lock), the longest common prompt prefix kept in cache.

    The planner sends a fixed few-shot prefix and a short dynamic tail, so keeping the keys and
    values of the previous request and cropping them to the shared prefix skips most of the
    prefill. The cache holds every layer in full (no sliding-window eviction) so it can be
    cropped; Gemma's sliding-window layers still attend through their mask.
    """

    def __init__(self, home: Path, threads: int | None = None):
        torch.set_num_threads(threads or os.cpu_count() or 1)
        self.model, self.tokenizer, self.load_seconds = hf_model.load(home)
        self.table = token_table(self.tokenizer)
        self.lock = threading.Lock()
        self.stop_ids = {i for i in (self.tokenizer.eos_token_id,
                                     self.tokenizer.convert_tokens_to_ids("<end_of_turn>")) if i is not None
                         and i != self.tokenizer.unk_token_id}
        self._cache = None
        self._cached: list[int] = []
        self._last: torch.Tensor | None = None
        self._hidden: torch.Tensor | None = None
        self._head = self.model.get_output_embeddings().weight

    # -- the Stepper the constrained decoder drives (tools.llm.constrained)
    def feed(self, ids: list[int]) -> None:
        from transformers import DynamicCache

        if not ids:
            return
        if self._cache is None:
            self._cache = DynamicCache()
        with torch.inference_mode():
            # the body only: most decisions need the logits of a few tokens, and the 262k-row
            # head costs as much as the rest of the model (the cache is updated in place)
            out = self.model.model(input_ids=torch.tensor([ids]), past_key_values=self._cache, use_cache=True)
        self._cached.extend(ids)
        self._hidden = out.last_hidden_state[0, -1]
        self._last = None

    def logits(self, ids: torch.Tensor | None = None) -> torch.Tensor:
        """Next-token logits over the vocabulary, or over ``ids`` only (same values, less work).
        Raw logits: Gemma 3 has no final soft-capping, and argmax would not change with it."""
        assert self._hidden is not None
        with torch.inference_mode():
            if ids is not None:
                return self._head[ids] @ self._hidden
            if self._last is None:
                self._last = self._head @ self._hidden
            return self._last

    def _start(self, prompt: list[int]) -> int:
        """Make the cache hold ``prompt``; returns how many of its tokens were reused."""
        shared = 0
        for a, b in zip(self._cached, prompt, strict=False):
            if a != b:
                break
            shared += 1
        keep = min(shared, len(prompt) - 1)  # always recompute the last token: we need its logits
        if self._cache is not None and keep > 0:
            self._cache.crop(keep - len(self._cached))  # crop takes minus the tokens to drop
            self._cached = self._cached[:keep]
        else:
            self._cache, self._cached, keep = None, [], 0
        self.feed(prompt[keep:])
        return keep

    # -- requests
    def chat_prompt(self, messages: list[dict[str, Any]]) -> str:
        if self.tokenizer.chat_template:
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return gemma_chat(messages)

    def generate(self, prompt: str, max_tokens: int, stop: list[str], schema: dict[str, Any] | None,
                 chat: bool = False) -> Generation:
        start = time.perf_counter()
        # a chat prompt already carries <bos> from its template
        ids = self.tokenizer.encode(prompt, add_special_tokens=not chat)
        with self.lock:
            reused = self._start(ids)
            prefill = time.perf_counter() - start
            if schema is not None:
                out, finished = decode(self, self.table, compile_schema(schema), max_tokens)
                text = self.tokenizer.decode(out, skip_special_tokens=True)
                produced, reason = len(out), "stop" if finished else "length"
            else:
                text, produced, reason = self._free(max_tokens, stop)
        return Generation(text, len(ids), produced, reason, reused, time.perf_counter() - start, prefill)

    def _free(self, max_tokens: int, stop: list[str]) -> tuple[str, int, str]:
        out: list[int] = []
        while len(out) < max_tokens:
            token = int(torch.argmax(self.logits()))
            if token in self.stop_ids:
                return self.tokenizer.decode(out, skip_special_tokens=True), len(out), "stop"
            out.append(token)
            self.feed([token])
            text = self.tokenizer.decode(out, skip_special_tokens=True)
            cut = [text.index(s) for s in stop if s and s in text]
            if cut:
                return text[:min(cut)], len(out), "stop"
        return self.tokenizer.decode(out, skip_special_tokens=True), len(out), "length"
