"""Greedy decoding constrained to a JSON schema, for the transformers engine, with llguidance.

llguidance (the grammar engine behind llama.cpp's ``--llguidance`` build, vLLM and SGLang)
compiles the schema to a grammar and, at every step, gives the tokens that keep the text a prefix
of valid JSON; the model takes its best one. Text the grammar alone decides (punctuation, keys,
the rest of a tool name once its first token is chosen) is forced without asking the model. The
JSON is compact with ``", "`` and ``": "`` separators, as in the planner's few-shot examples.
Schemas follow JSON Schema 2020-12 as llguidance implements it ($ref/$defs, anyOf, const, enum,
numeric bounds and ``multipleOf``, string length, ``pattern`` and ``format``, array bounds and
``prefixItems``, ``additionalProperties``); anything else (``uniqueItems``, a format it does
not know) is refused by name.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Protocol

import llguidance
import llguidance.hf
import numpy as np
import torch
from llguidance.numpy import allocate_token_bitmask, fill_next_token_bitmask

JSON_OPTIONS = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}


class SchemaError(ValueError):
    """The request's JSON schema is malformed or uses something llguidance does not support."""


def compile_schema(schema: Any) -> str:
    """The llguidance grammar of ``schema``; raises SchemaError naming what it cannot compile."""
    if not isinstance(schema, dict):
        raise SchemaError(f"a schema must be an object, got {type(schema).__name__}")
    return _grammar(json.dumps(schema))  # not sorted: property order is the order written


@lru_cache(maxsize=64)  # the planner sends the same schema every turn
def _grammar(schema: str) -> str:
    try:
        grammar = llguidance.LLMatcher.grammar_from_json_schema(schema, defaults=JSON_OPTIONS)
    except ValueError as e:
        raise SchemaError(str(e)) from e
    error, messages = llguidance.LLMatcher.validate_grammar_with_warnings(grammar)
    if error:
        raise SchemaError(messages[0])
    return grammar


def token_table(tokenizer) -> llguidance.LLTokenizer:
    """llguidance's view of a Hugging Face fast tokenizer (about a second: build it once)."""
    return llguidance.hf.from_tokenizer(tokenizer)


class Stepper(Protocol):
    """The model as the decoder sees it: next-token logits after everything fed so far."""

    def logits(self, ids: torch.Tensor | None = None) -> torch.Tensor:
        """Over the whole vocabulary, or over ``ids`` only (cheaper)."""
        ...

    def feed(self, ids: list[int]) -> None: ...


def decode(stepper: Stepper, table: llguidance.LLTokenizer, grammar: str, max_tokens: int) -> tuple[list[int], bool]:
    """(tokens, finished): the model's greedy text under ``grammar``, at most ``max_tokens``
    tokens; ``finished`` is False when the budget ended it (the text is then a valid prefix)."""
    matcher = llguidance.LLMatcher(table, grammar)
    mask = allocate_token_bitmask(1, table.vocab_size)
    out: list[int] = []
    unfed: list[int] = []  # chosen and forced tokens reach the model only when it decides again
    while len(out) < max_tokens:
        forced = matcher.compute_ff_tokens()[: max_tokens - len(out)]
        if forced:
            matcher.consume_tokens(forced)
            out += forced
            unfed += forced
            continue
        fill_next_token_bitmask(matcher, mask)
        allowed = np.flatnonzero(np.unpackbits(mask[0].view(np.uint8), bitorder="little")[: table.vocab_size])
        if matcher.is_error():
            raise RuntimeError(f"llguidance: {matcher.get_error()}")
        if matcher.is_stopped() or (len(allowed) == 1 and allowed[0] == table.eos_token):
            return out, True
        if unfed:
            stepper.feed(unfed)
            unfed = []
        ids = torch.from_numpy(allowed)
        # the output head is as costly as the rest of the model: score only the allowed rows
        # unless they are most of the vocabulary (inside a string)
        scores = stepper.logits(ids) if 3 * len(allowed) < table.vocab_size else stepper.logits()[ids]
        token = int(allowed[int(torch.argmax(scores))])
        if token == table.eos_token:
            return out, True
        matcher.consume_token(token)
        out.append(token)
        unfed.append(token)
    return out, matcher.is_accepting()
