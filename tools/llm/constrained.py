"""Greedy decoding constrained to a JSON schema, for the transformers engine.

The decoder walks the schema and writes the JSON itself: punctuation, keys and separators are
forced text; the model decides only where the schema leaves a choice (which enum value, which
``anyOf`` branch, whether an optional key or another array item follows, the characters of a
string, the digits of an integer). Every decision is the model's best token among the ones the
schema allows, so the output always parses and validates, and strings close within
``maxLength``. llama.cpp reaches the same guarantee with a grammar; this covers the subset the
planner sends (pydantic-style schemas with refs inlined):

object (properties, required, additionalProperties), string (enum, const, minLength,
maxLength), integer and number (minimum, maximum; numbers are written as integers), boolean,
null, array (items, minItems, maxItems), anyOf/oneOf and type lists. title, description,
default, examples and $schema are ignored; anything else (pattern, $ref, allOf, ...) is refused.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch

IGNORED_KEYS = {"title", "description", "default", "examples", "$schema", "$id", "format"}
SUPPORTED_KEYS = IGNORED_KEYS | {
    "type", "properties", "required", "additionalProperties", "enum", "const", "minLength",
    "maxLength", "minimum", "maximum", "items", "minItems", "maxItems", "anyOf", "oneOf",
}
TYPES = {"object", "string", "integer", "number", "boolean", "null", "array"}
UNBOUNDED_ITEMS = 8  # an array without maxItems: a base model would otherwise repeat itself
INTEGER_DIGITS = 15


class SchemaError(ValueError):
    """The request's JSON schema uses something this decoder does not support."""


def check_schema(schema: Any, path: str = "#") -> None:
    """Raise SchemaError naming the first unsupported or malformed part of ``schema``."""
    if not isinstance(schema, dict):
        raise SchemaError(f"{path}: a schema must be an object, got {type(schema).__name__}")
    unknown = sorted(set(schema) - SUPPORTED_KEYS)
    if unknown:
        raise SchemaError(f"{path}: unsupported keyword(s) {unknown}")
    for key in ("anyOf", "oneOf"):
        if key in schema:
            if not isinstance(schema[key], list) or not schema[key]:
                raise SchemaError(f"{path}/{key}: must be a non-empty list")
            for i, branch in enumerate(schema[key]):
                check_schema(branch, f"{path}/{key}/{i}")
            return
    if "enum" in schema and (not isinstance(schema["enum"], list) or not schema["enum"]):
        raise SchemaError(f"{path}/enum: must be a non-empty list")
    if "const" in schema or "enum" in schema:
        return
    types = schema.get("type")
    if types is None:
        raise SchemaError(f"{path}: needs a type, enum, const or anyOf")
    for t in types if isinstance(types, list) else [types]:
        if t not in TYPES:
            raise SchemaError(f"{path}/type: unknown type {t!r}")
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        raise SchemaError(f"{path}/properties: must be an object")
    for name, sub in properties.items():
        check_schema(sub, f"{path}/properties/{name}")
    missing = set(schema.get("required", [])) - set(properties)
    if missing:
        raise SchemaError(f"{path}/required: {sorted(missing)} not in properties")
    if "items" in schema:
        check_schema(schema["items"], f"{path}/items")
    if "maxItems" in schema and schema.get("minItems", 0) > schema["maxItems"]:
        raise SchemaError(f"{path}: minItems > maxItems")
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None and low > high:
        raise SchemaError(f"{path}: minimum > maximum")
    if schema.get("minLength", 0) > schema.get("maxLength", 10**9):
        raise SchemaError(f"{path}: minLength > maxLength")


class Stepper(Protocol):
    """The model as the decoder sees it: next-token logits after everything fed so far."""

    def logits(self, ids: torch.Tensor | None = None) -> torch.Tensor:
        """Over the whole vocabulary, or over ``ids`` only (cheaper)."""
        ...

    def feed(self, ids: list[int]) -> None: ...


@dataclass
class TokenTable:
    """What each vocabulary entry means inside JSON, computed once per tokenizer."""

    texts: list[str]
    string_body: torch.Tensor  # may stand inside a JSON string: no quote, backslash or control char
    string_close: torch.Tensor  # a string body followed by the closing quote, and nothing after it
    lengths: torch.Tensor  # characters of text (for maxLength)
    ends_ids: torch.Tensor  # tokens that start with what may follow a number: , } or ]
    digits: dict[int, str] = field(default_factory=dict)  # tokens made only of digits
    # a closing quote fused with what follows it (`",` `"}` `"]}`): the model's natural way to end
    # a string inside JSON; token -> (string body, trailing text)
    close_tails: dict[int, tuple[str, str]] = field(default_factory=dict)
    punctuation: dict[int, str] = field(default_factory=dict)  # tokens made only of , } ]

    @classmethod
    def build(cls, tokenizer) -> TokenTable:
        size = len(tokenizer)
        special = set(tokenizer.all_special_ids)
        texts = []
        for i, piece in enumerate(tokenizer.convert_ids_to_tokens(list(range(size)))):
            if piece is None or i in special or re.fullmatch(r"<0x[0-9A-Fa-f]{2}>|<[a-z_0-9]+>|\[.*\]|<unused\d+>", piece):
                texts.append("")  # byte pieces and control tokens never appear in our JSON
            else:
                texts.append(piece.replace("\u2581", " "))
        body = torch.zeros(size, dtype=torch.bool)
        close = torch.zeros(size, dtype=torch.bool)
        lengths = torch.zeros(size, dtype=torch.long)
        digits, close_tails, punctuation = {}, {}, {}
        ends = []
        for i, text in enumerate(texts):
            if not text:
                continue
            lengths[i] = len(text)
            clean = not any(c == "\\" or ord(c) < 0x20 for c in text)
            quotes = text.count('"')
            body[i] = clean and quotes == 0
            close[i] = clean and quotes == 1 and text.endswith('"')
            if text[0] in ",}]":
                ends.append(i)
            if text.isascii() and text.isdigit():
                digits[i] = text
            fused = re.fullmatch(r'([^"]*)"([,}\]]+)', text)
            if clean and fused:
                close_tails[i] = (fused.group(1), fused.group(2))
            if re.fullmatch(r"[,}\]]+", text):
                punctuation[i] = text
        return cls(texts, body, close, lengths, torch.tensor(ends), digits, close_tails, punctuation)


class SchemaDecoder:
    """Writes one JSON value under ``schema``, asking the model at every choice."""

    def __init__(self, stepper: Stepper, tokenizer, table: TokenTable, max_tokens: int):
        self.stepper = stepper
        self.tokenizer = tokenizer
        self.table = table
        self.budget = max_tokens  # tokens the model chooses; forced text is free
        self.parts: list[str] = []
        self.pending = ""
        self.chosen = 0
        self.truncated = False
        # text the model already wrote past the end of a value (a fused `",` or `}]`), that the
        # next forced text or choice must match instead of writing it again
        self.carry = ""

    # -- low-level: forced text and model decisions
    def _force(self, text: str) -> None:
        if self.carry:
            n = min(len(self.carry), len(text))
            assert text[:n] == self.carry[:n], (text, self.carry)
            self.carry, text = self.carry[n:], text[n:]
            if not text:
                return
        self.pending += text
        self.parts.append(text)

    def _flush(self) -> None:
        if self.pending:
            self.stepper.feed(self.tokenizer.encode(self.pending, add_special_tokens=False))
            self.pending = ""

    def _logits(self, ids: torch.Tensor | None = None) -> torch.Tensor:
        self._flush()
        return self.stepper.logits(ids)

    def _take(self, token: int) -> None:
        self.stepper.feed([token])
        self.parts.append(self.table.texts[token])
        self.chosen += 1
        if self.chosen >= self.budget:
            self.truncated = True

    def _encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False)

    def choose(self, options: list[str]) -> int:
        """Index of the option the model prefers, written out token by token (greedy over a trie)."""
        if self.carry:
            fits = [i for i, o in enumerate(options) if o.startswith(self.carry) or self.carry.startswith(o)]
            assert fits, (options, self.carry)
            covered = [i for i in fits if self.carry.startswith(options[i])]
            if covered:
                self.carry = self.carry[len(options[covered[0]]):]
                return covered[0]
            n, self.carry = len(self.carry), ""
            return fits[self.choose([options[i][n:] for i in fits])]
        if len(options) == 1:
            self._force(options[0])
            return 0
        if self.truncated:  # out of budget: the shortest way to finish
            best = min(range(len(options)), key=lambda i: (len(options[i]), i))
            self._force(options[best])
            return best
        # forced text still pending is tokenized together with each option, as it would be in
        # running text (`": "` and `"Horror"` share a token); the common tokens go in at once
        lead, self.pending = self.pending, ""
        encoded = [self._encode(lead + o) for o in options]
        depth = 0
        while all(len(e) > depth and e[depth] == encoded[0][depth] for e in encoded):
            depth += 1
        self.stepper.feed(encoded[0][:depth])
        alive = list(range(len(options)))
        while True:
            done = [i for i in alive if len(encoded[i]) == depth]
            if len(alive) == 1 or len(done) == len(alive):
                pick = alive[0] if len(alive) == 1 else done[0]
                self.stepper.feed(encoded[pick][depth:])
                break
            candidates = sorted({encoded[i][depth] for i in alive if len(encoded[i]) > depth})
            ids = torch.tensor(candidates)
            scores = self._logits(ids)
            token = int(ids[torch.argmax(scores)])
            if done and float(scores.max()) < self._best_follow():
                pick = done[0]  # an option that is a prefix of another ends here
                break
            self.stepper.feed([token])
            self.chosen += 1
            alive = [i for i in alive if len(encoded[i]) > depth and encoded[i][depth] == token]
            depth += 1
        self.parts.append(options[pick])
        if self.chosen >= self.budget:
            self.truncated = True
        return pick

    def _best_follow(self) -> float:
        """The best score of a token that ends a number or a value: , } ]"""
        return float(self._logits(self.table.ends_ids).max())

    # -- the schema walk
    def value(self, schema: dict[str, Any], follow: tuple[str, ...] = ("",)) -> None:
        """Write a value of ``schema``. ``follow``: the texts that may come right after it (their
        first characters), so the model may end the value with a token that also starts those."""
        branches = _branches(schema)
        if len(branches) > 1:
            self._any_of(branches, follow)
            return
        schema = branches[0]
        if "const" in schema:
            self._force(json.dumps(schema["const"]))
        elif "enum" in schema:
            self._enum([json.dumps(v) for v in schema["enum"]], follow)
        else:
            getattr(self, "_" + schema["type"])(schema, follow)

    def _enum(self, options: list[str], follow: tuple[str, ...]) -> None:
        """One of ``options``, which the model may close with a fused token (`"Horror"],`): each
        option also comes with the punctuation that may follow it, and what it wrote past the
        value is carried over to the text that follows."""
        if self.carry or self.truncated:
            self.choose(options)
            return
        variants = [(o, t) for o in options for t in _tails(follow)]
        pick = self.choose([o + t for o, t in variants])
        self.carry = variants[pick][1]

    def _any_of(self, branches: list[dict[str, Any]], follow: tuple[str, ...]) -> None:
        prefixes = [_literal_prefixes(b) for b in branches]
        if all(prefixes):
            flat = [(b, p) for b, ps in enumerate(prefixes) for p in ps]
            pick = self.choose([p for _, p in flat])
            branch, prefix = flat[pick]
            self._after_prefix(branches[branch], prefix, follow)
            return
        if self.truncated:
            self.value(branches[0], follow)
            return
        scores = []
        for b, ps in zip(branches, prefixes, strict=True):
            ids = {self._encode(p)[0] for p in ps} if ps else self._start_tokens(b)
            scores.append(float(self._logits(torch.tensor(sorted(ids))).max()) if ids else float("-inf"))
        best = max(range(len(branches)), key=lambda i: scores[i])
        if prefixes[best]:
            pick = self.choose(prefixes[best])
            self._after_prefix(branches[best], prefixes[best][pick], follow)
        else:
            self.value(branches[best], follow)

    def _start_tokens(self, schema: dict[str, Any]) -> set[int]:
        kind = schema.get("type")
        if kind in ("integer", "number"):
            return set(self.table.digits) | set(self._encode("-")[:1])
        opener = {"string": '"', "object": "{", "array": "["}.get(kind)
        return set(self._encode(opener)[:1]) if opener else set()

    def _after_prefix(self, schema: dict[str, Any], prefix: str, follow: tuple[str, ...]) -> None:
        """Finish a value whose literal start ``prefix`` was already written."""
        if schema.get("type") == "object" and prefix.startswith("{"):
            self._object(schema, follow, first_written=True)
        # other literal prefixes (null, true, false, const, enum values) are whole values

    def _null(self, schema: dict[str, Any], follow: tuple[str, ...]) -> None:
        self._force("null")

    def _boolean(self, schema: dict[str, Any], follow: tuple[str, ...]) -> None:
        self.choose(["true", "false"])

    def _object(self, schema: dict[str, Any], follow: tuple[str, ...], first_written: bool = False) -> None:
        properties = list(schema.get("properties", {}).items())
        required = set(schema.get("required", []))
        start = 0
        if first_written:
            start = 1  # the prefix {"name": <literal value>} was written already
        else:
            self._force("{")
        written = start
        index = start
        while index < len(properties):
            # candidates: each remaining key up to and including the next required one, or the end
            sep = ", " if written else ""
            options, targets = [], []
            for j in range(index, len(properties)):
                options.append(f'{sep}{json.dumps(properties[j][0])}: ')
                targets.append(j)
                if properties[j][0] in required:
                    break
            else:
                ends = _tails(follow) if not self.carry else [""]
                options += ["}" + t for t in ends]
                targets += [None] * len(ends)
            pick = self.choose(options)
            if targets[pick] is None:
                self.carry = options[pick][1:] if not self.carry else self.carry
                return
            after = []
            for name, _ in properties[targets[pick] + 1:]:
                after.append(f", {json.dumps(name)}: ")
                if name in required:
                    break
            else:
                after += ["}" + f for f in follow]
            self.value(properties[targets[pick]][1], _short(after))
            written += 1
            index = targets[pick] + 1
        self._force("}")

    def _array(self, schema: dict[str, Any], follow: tuple[str, ...]) -> None:
        low = schema.get("minItems", 0)
        high = schema.get("maxItems", max(low, UNBOUNDED_ITEMS))
        items = schema.get("items", {"type": "string"})
        self._force("[")
        count = 0
        while count < high:
            if count >= low:
                if count == 0:
                    if self.truncated or self._prefers_end(items, "]"):
                        break
                else:
                    ends = _tails(follow) if not self.carry else [""]
                    pick = self.choose([", "] + ["]" + t for t in ends])
                    if pick:
                        self.carry = ends[pick - 1] if not self.carry else self.carry
                        return
            elif count:
                self._force(", ")
            after = ([", "] if count + 1 < high else []) + (["]" + f for f in follow] if count + 1 >= low else [])
            self.value(items, _short(after))
            count += 1
        self._force("]")

    def _prefers_end(self, items: dict[str, Any], end: str) -> bool:
        close = self._encode(end)[0]
        starts = set()
        for b in _branches(items):
            prefixes = _literal_prefixes(b)
            starts |= {self._encode(p)[0] for p in prefixes} if prefixes else self._start_tokens(b)
        starts.discard(close)
        scores = self._logits(torch.tensor([close, *sorted(starts)]))
        return len(scores) == 1 or float(scores[0]) >= float(scores[1:].max())

    def _string(self, schema: dict[str, Any], follow: tuple[str, ...]) -> None:
        low = schema.get("minLength", 0)
        high = schema.get("maxLength", 10**6)
        self._force('"')
        length = 0
        table = self.table
        while True:
            room = high - length
            if self.truncated or room <= 0:
                if length < low:  # pad rather than break minLength
                    self._force(" " * (low - length))
                self._force('"')
                return
            logits = self._logits()
            allowed = table.string_body & (table.lengths <= room)
            allowed |= table.string_close & (table.lengths - 1 <= room) & (table.lengths - 1 >= low - length)
            masked = torch.where(allowed, logits, torch.full_like(logits, float("-inf")))
            token = int(torch.argmax(masked))
            fused = [t for t, (body, tail) in table.close_tails.items()
                     if low - length <= len(body) <= room and any(f.startswith(tail) for f in follow)]
            if fused:
                best = max(fused, key=lambda t: float(logits[t]))
                if float(logits[best]) > float(masked[token]):
                    self._take(best)
                    self.carry = table.close_tails[best][1]
                    return
            closes = bool(table.string_close[token])
            self._take(token)
            if closes:
                return
            length += len(table.texts[token])

    def _integer(self, schema: dict[str, Any], follow: tuple[str, ...]) -> None:
        low = schema.get("minimum")
        high = schema.get("maximum")
        low = None if low is None else int(-(-low // 1))  # ceil for number bounds
        high = None if high is None else int(high // 1)
        text = ""
        while True:
            complete = _in_range(text, low, high)
            if self.truncated:
                if complete:
                    return
                self._force(_smallest_completion(text, low, high))
                return
            options = {t: s for t, s in self.table.digits.items() if _viable(text + s, low, high)}
            if text == "" and (low is None or low < 0):
                minus = self._encode("-")[0]
                if _viable("-", low, high):
                    options[minus] = "-"
            if not options:
                return  # complete by construction: viable prefixes always reach a value
            ids = torch.tensor(list(options))
            scores = self._logits(ids)
            token = int(ids[torch.argmax(scores)])
            if complete:
                ends = [t for t, p in self.table.punctuation.items() if any(f.startswith(p) for f in follow)]
                if ends:
                    end_scores = self._logits(torch.tensor(ends))
                    if float(end_scores.max()) > float(scores.max()):
                        end = ends[int(torch.argmax(end_scores))]
                        self._take(end)
                        self.carry = self.table.punctuation[end]
                        return
                elif float(scores.max()) < self._best_follow():
                    return
            self._take(token)
            text += options[token]

    _number = _integer




def _tails(follow: tuple[str, ...]) -> list[str]:
    """"" and the punctuation (, } ]) that may directly follow a value: what a fused token can add."""
    return [""] + sorted({f[:k] for f in follow for k in range(1, len(f) + 1) if re.fullmatch(r"[,}\]]+", f[:k])})


def _short(follow: list[str]) -> tuple[str, ...]:
    """The distinct starts of what may follow; a fused token carries a few characters at most."""
    return tuple(dict.fromkeys(f[:8] for f in follow))


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives of a schema: anyOf/oneOf branches, or one per listed type."""
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return [b for branch in schema[key] for b in _branches(branch)]
    types = schema.get("type")
    if isinstance(types, list) and "const" not in schema and "enum" not in schema:
        return [{**schema, "type": t} for t in types]
    return [schema]


def _literal_prefixes(schema: dict[str, Any]) -> list[str]:
    """The literal texts a value of ``schema`` can start with, when they tell its branches apart."""
    if "const" in schema:
        return [json.dumps(schema["const"])]
    if "enum" in schema:
        return [json.dumps(v) for v in schema["enum"]]
    kind = schema.get("type")
    if kind == "null":
        return ["null"]
    if kind == "boolean":
        return ["true", "false"]
    if kind == "object":
        properties = list(schema.get("properties", {}).items())
        if properties and properties[0][0] in schema.get("required", []):
            name, sub = properties[0]
            values = _literal_prefixes(sub) if len(_branches(sub)) == 1 and ("const" in sub or "enum" in sub) else []
            return [f"{{{json.dumps(name)}: {v}" for v in values]
    return []


def _viable(text: str, low: int | None, high: int | None) -> bool:
    """Can the integer prefix ``text`` still be completed into a value within [low, high]?"""
    if text in ("", "-"):
        return text == "" or low is None or low < 0
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    if not digits.isdigit() or len(digits) > INTEGER_DIGITS:
        return False
    if len(digits) > 1 and digits[0] == "0":
        return False
    if digits == "0" and negative:
        return False
    for extra in range(0, INTEGER_DIGITS - len(digits) + 1):
        if extra and digits == "0":
            break
        lo = int(digits) * 10**extra
        hi = (int(digits) + 1) * 10**extra - 1 if extra else lo
        if negative:
            lo, hi = -hi, -lo
        if (high is None or lo <= high) and (low is None or hi >= low):
            return True
    return False


def _in_range(text: str, low: int | None, high: int | None) -> bool:
    if text in ("", "-"):
        return False
    value = int(text)
    return (low is None or value >= low) and (high is None or value <= high)


def _smallest_completion(text: str, low: int | None, high: int | None) -> str:
    """Digits that finish the prefix ``text`` inside the range (used when the budget is spent)."""
    if text in ("", "-"):
        value = 0 if text == "" else -1
        value = max(value, low) if low is not None else value
        value = min(value, high) if high is not None else value
        return str(value) if text == "" else str(value)[1:]
    suffix = ""
    while not _in_range(text + suffix, low, high):
        suffix += next(d for d in "0123456789" if _viable(text + suffix + d, low, high))
    return suffix
