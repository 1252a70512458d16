"""Decoding under a JSON schema (llguidance) writes valid JSON whatever the model prefers.

A random "model" (seeded logits) drives the decoder over a small tokenizer whose vocabulary mixes
single characters with multi-character pieces (as real tokenizers do), so every branch of each
schema is taken with arbitrary preferences; the output must always validate under the schema.
"""

from __future__ import annotations

import json

import jsonschema
import llguidance
import pytest
import torch
from pydantic import BaseModel, ConfigDict, Field

from tools.llm.constrained import SchemaError, compile_schema, decode

PIECES = ['{"', '":', ' "', '",', '"}', "}}", "]}", ", ", "null", "true", "false", "Horror", "Sci", "-Fi",
          "Comedy", "19", "20", "the ", "ing", "tool", "args", "query", "search", "similar", "_items",
          " [", "},", '."', 'o"', "e\\", "\n", '"},', '"]', '"],', '"]}', '"}}', '],', '}]', '}}]', "decade",
          "70", "00", "0}"]


class PieceTokenizer:
    """Greedy longest-match over printable ASCII characters and the pieces above (what
    llguidance's TokenizerWrapper reads: the tokens' bytes, the special ids, an encoder)."""

    def __init__(self):
        self.vocab = ["<pad>", "<eos>", "<bos>"] + [chr(c) for c in range(32, 127)] + PIECES
        self.tokens = [t.encode() for t in self.vocab]
        self.eos_token_id, self.bos_token_id, self.special_token_ids = 1, 2, [0, 1, 2]

    def __call__(self, text: str) -> list[int]:
        out, i = [], 0
        while i < len(text):
            piece = max((p for p in self.vocab[3:] if text.startswith(p, i)), key=len)
            out.append(self.vocab.index(piece))
            i += len(piece)
        return out


class RandomModel:
    """Seeded random logits, a new draw after every feed; records what it was fed."""

    def __init__(self, size: int, seed: int):
        self.size, self.generator = size, torch.Generator().manual_seed(seed)
        self.fed: list[int] = []
        self._next = torch.randn(size, generator=self.generator)

    def feed(self, ids):
        self.fed.extend(ids)
        self._next = torch.randn(self.size, generator=self.generator) * 3

    def logits(self, ids=None):
        return self._next if ids is None else self._next[ids]


TOKENIZER = PieceTokenizer()
TABLE = llguidance.LLTokenizer(llguidance.TokenizerWrapper(TOKENIZER))


def _text(ids: list[int]) -> str:
    return "".join(TOKENIZER.vocab[i] for i in ids)


class DecadeArgs(BaseModel):  # the README's worked example of a new tool
    decade: int = Field(ge=1900, le=2020, multiple_of=10)
    k: int = Field(5, ge=1, le=50)


class Pick(BaseModel):
    model_config = ConfigDict(extra="forbid")  # as the registry's argument models

    title: str = Field(min_length=2, max_length=12, pattern=r"^[A-Z][a-z ]+$", description="a title")
    score: float = Field(gt=0, lt=1)
    tags: list[str] = Field(default_factory=list, max_length=2)


class Answer(BaseModel):  # $defs and $ref, nested models, a nullable field, a default
    model_config = ConfigDict(extra="forbid")

    picks: list[Pick] = Field(min_length=1, max_length=2)
    year: int | None = Field(None, ge=1900, le=1999)


YEAR = {"anyOf": [{"type": "integer", "minimum": 1900, "maximum": 2030}, {"type": "null"}]}
PLAN = {
    "type": "object", "additionalProperties": False, "required": ["steps"],
    "properties": {"steps": {"type": "array", "minItems": 1, "maxItems": 4, "items": {"anyOf": [
        {"type": "object", "additionalProperties": False, "required": ["tool", "args"],
         "properties": {"tool": {"const": "semantic_search"},
                        "args": {"type": "object", "additionalProperties": False, "required": ["query"],
                                 "properties": {"query": {"type": "string", "maxLength": 12},
                                                "genres": {"type": "array", "maxItems": 3,
                                                           "items": {"enum": ["Horror", "Sci-Fi", "Comedy"]}},
                                                "year_min": YEAR, "year_max": YEAR}}}},
        {"type": "object", "additionalProperties": False, "required": ["tool", "args"],
         "properties": {"tool": {"const": "similar_items"},
                        "args": {"type": "object", "additionalProperties": False, "required": ["title"],
                                 "properties": {"title": {"type": "string", "maxLength": 30, "title": "T"},
                                                "k": {"type": "integer", "minimum": 1, "maximum": 50}}}}},
        {"type": "object", "additionalProperties": False, "required": ["tool", "args"],
         "properties": {"tool": {"enum": ["answer"]},
                        "args": {"type": "object", "additionalProperties": False, "properties": {}}}},
    ]}}},
}
SCHEMAS = {
    "plan": PLAN,
    "readme_tool": {**DecadeArgs.model_json_schema(), "additionalProperties": False},
    "pydantic_refs": Answer.model_json_schema(),
    "scalars": {"type": "object", "required": ["a", "b", "c", "d"], "additionalProperties": False,
                "properties": {"a": {"type": "boolean"}, "b": {"type": ["integer", "null"], "minimum": -5, "maximum": 7},
                               "c": {"type": "string", "minLength": 2, "maxLength": 4},
                               "d": {"type": "number", "minimum": 1995, "maximum": 1998, "multipleOf": 0.5},
                               "e": {"const": {"x": [1, None]}}}},
    "list": {"type": "array", "minItems": 2, "maxItems": 5, "items": {"type": "integer", "minimum": 0, "maximum": 10_000}},
}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_any_preference_gives_valid_json(name):
    schema = SCHEMAS[name]
    grammar = compile_schema(schema)
    for seed in range(30):
        model = RandomModel(len(TOKENIZER.vocab), seed)
        ids, finished = decode(model, TABLE, grammar, max_tokens=400)
        assert finished, _text(ids)
        jsonschema.validate(json.loads(_text(ids)), schema)
        # the model was fed what it returned, except forced tokens after its last decision
        assert ids[:len(model.fed)] == model.fed


def test_the_readme_tool_decodes_multiples_of_ten():
    """`Field(ge=1900, le=2020, multiple_of=10)`, its schema as pydantic writes it (other keys
    allowed): every decade the model writes is one."""
    schema = DecadeArgs.model_json_schema()
    decades = set()
    for seed in range(30):
        ids, finished = decode(RandomModel(len(TOKENIZER.vocab), seed), TABLE, compile_schema(schema), 4000)
        assert finished
        jsonschema.validate(json.loads(_text(ids)), schema)
        decades.add(DecadeArgs.model_validate_json(_text(ids)).decade)
    assert decades <= set(range(1900, 2021, 10)) and len(decades) > 3


def test_the_budget_ends_the_text_as_a_valid_prefix():
    grammar = compile_schema(PLAN)
    for seed in range(10):
        free, _ = decode(RandomModel(len(TOKENIZER.vocab), seed), TABLE, grammar, max_tokens=400)
        ids, finished = decode(RandomModel(len(TOKENIZER.vocab), seed), TABLE, grammar, max_tokens=6)
        assert not finished and len(ids) == 6 and ids == free[:6]


@pytest.mark.parametrize("schema,words", [
    ({"type": "strnig"}, "strnig"),
    ({"type": "array", "items": {"type": "integer"}, "uniqueItems": True}, "uniqueItems"),
    ({"type": "string", "format": "binary"}, "binary"),
    ({"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}}, "A"),
    ([1, 2], "must be an object"),
])
def test_a_schema_it_cannot_compile_is_refused_by_name(schema, words):
    with pytest.raises(SchemaError) as info:
        compile_schema(schema)
    assert words in str(info.value)
