"""The LLM client: any OpenAI-compatible server through the ``openai`` package, bounded in time.

Three ways to ask for a plan, because servers differ (``Config.llm_planner``):
- ``tools``: native tool calls (``/v1/chat/completions`` with ``tools``): vLLM, Ollama, OpenAI;
- ``json-chat``: a chat answer constrained by a JSON schema (``response_format``);
- ``json-completion``: a few-shot text completion constrained by a JSON schema (llama.cpp's
  ``json_schema``), for base models that speak no chat template, such as Gemma 3 270M.

Every call of one turn shares the turn's ``Deadline``: a call's timeout is what is left of it, and
a retry happens only while time is left. A ``CircuitBreaker`` shared by all turns opens after a
timeout or ``llm_breaker_failures`` errors in a row; while open the LLM is not called at all, so a
slow or dead endpoint costs one turn its deadline, not every turn. Output is only text here;
the planner validates it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from tools.config import Config

log = logging.getLogger(__name__)
T = TypeVar("T")
MIN_CALL_SECONDS = 0.25  # below this much time left, a call is not worth starting
# Why a turn's LLM plan was given up for the offline planner (``Reply.fallback_reason``); each is
# set where it happens: here (the server), in ``agent.planner`` (its answer) and ``agent.nodes``.
FallbackReason = Literal["circuit open", "timeout", "deadline spent", "server error", "no tool call",
                         "invalid plan", "invalid arguments", "tool not given", "no film found"]


class LLMUnavailable(RuntimeError):
    """No usable answer within the turn: breaker open, deadline spent, or the server failed."""

    def __init__(self, message: str, reason: FallbackReason):
        super().__init__(message)
        self.reason: FallbackReason = reason


class Deadline:
    """The LLM time one turn may still spend."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.clock, self.end = clock, clock() + seconds

    @classmethod
    def at(cls, end: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        """The deadline ending at ``end`` on ``clock`` (a turn's, carried between graph nodes)."""
        d = cls(0.0, clock)
        d.end = end
        return d

    def remaining(self) -> float:
        return max(0.0, self.end - self.clock())


class CircuitBreaker:
    """Closed -> open after a timeout or ``failures`` errors in a row; open for ``cooldown`` seconds,
    then one trial call (half-open): success closes it, a fault opens it again. Thread-safe."""

    def __init__(self, failures: int, cooldown: float, clock: Callable[[], float] = time.monotonic):
        self.failures, self.cooldown, self.clock = failures, cooldown, clock
        self._errors, self._open_until = 0, 0.0
        self._lock = threading.Lock()

    def open_for(self) -> float:
        """Seconds until the LLM may be tried again (0: closed or half-open)."""
        with self._lock:
            return max(0.0, self._open_until - self.clock())

    def success(self) -> None:
        with self._lock:
            self._errors, self._open_until = 0, 0.0

    def failure(self, timeout: bool) -> None:
        with self._lock:
            self._errors += 1
            if timeout or self._errors >= self.failures:
                self._open_until = self.clock() + self.cooldown


class LLMClient:
    """Calls an OpenAI-compatible endpoint within a turn's deadline, behind a circuit breaker."""

    def __init__(self, config: Config):
        import openai

        self.config, self.model = config, config.llm_model
        self.client = openai.OpenAI(base_url=config.llm_base_url, api_key=config.llm_api_key or "not-needed",
                                    timeout=config.llm_timeout, max_retries=0)
        self.breaker = CircuitBreaker(config.llm_breaker_failures, config.llm_cooldown)

    def deadline(self) -> Deadline:
        """A new turn's LLM budget (its ``end`` is carried between graph nodes; ``Deadline.at``)."""
        return Deadline(self.config.llm_turn_seconds)

    # ---- the three ways to ask -------------------------------------------------------------------
    def chat_tools(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], deadline: Deadline) -> Any:
        """One assistant message that may hold native tool calls."""
        return self._call("tool call", deadline, lambda t: self.client.chat.completions.create(
            model=self.model, messages=messages, tools=tools, tool_choice="auto", temperature=0,
            timeout=t).choices[0].message)

    def chat_json(self, messages: list[dict[str, Any]], schema: dict[str, Any], deadline: Deadline) -> str:
        """A chat answer constrained by ``schema`` (structured outputs / guided decoding)."""
        fmt = {"type": "json_schema", "json_schema": {"name": "plan", "schema": schema}}
        return self._call("json plan", deadline, lambda t: self.client.chat.completions.create(
            model=self.model, messages=messages, response_format=fmt, temperature=0,
            max_tokens=self.config.llm_max_tokens, timeout=t).choices[0].message.content or "")

    def complete_json(self, prompt: str, schema: dict[str, Any], deadline: Deadline) -> str:
        """A text completion of ``prompt`` constrained by ``schema`` (llama.cpp's ``json_schema``)."""
        return self._call("json completion", deadline, lambda t: self.client.completions.create(
            model=self.model, prompt=prompt, temperature=0, max_tokens=self.config.llm_max_tokens,
            stop=["\n\n"], extra_body={"json_schema": schema}, timeout=t).choices[0].text or "")

    def _call(self, what: str, deadline: Deadline, call: Callable[[float], T]) -> T:
        """``call(timeout)`` once, plus ``llm_retries`` retries while the deadline allows."""
        import openai

        wait = self.breaker.open_for()
        if wait > 0:
            raise LLMUnavailable(f"circuit open for {wait:.0f}s more after LLM faults", "circuit open")
        last, reason = "no time left in the turn", "deadline spent"
        for attempt in range(1 + self.config.llm_retries):
            left = deadline.remaining()
            if left < MIN_CALL_SECONDS:
                break
            timeout = min(self.config.llm_timeout, left)
            try:
                out = call(timeout)
            except (openai.APITimeoutError, TimeoutError) as e:
                self.breaker.failure(timeout=True)
                log.warning("LLM %s timed out after %.1fs (attempt %d): %s", what, timeout, attempt + 1, e)
                raise LLMUnavailable(f"timed out; LLM skipped for {self.config.llm_cooldown:.0f}s", "timeout") from e
            except Exception as e:  # noqa: BLE001 - HTTP errors, refused connections: retry, then give up
                self.breaker.failure(timeout=False)
                last, reason = f"{type(e).__name__}: {str(e)[:200]}", "server error"
                log.warning("LLM %s failed (attempt %d): %s", what, attempt + 1, last)
                if self.breaker.open_for() > 0:
                    break
                continue
            self.breaker.success()
            return out
        raise LLMUnavailable(last, reason)
