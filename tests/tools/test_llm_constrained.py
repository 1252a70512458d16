"""The schema-guided decoder writes valid JSON whatever the model prefers.

A random "model" (seeded logits) drives the decoder over a small tokenizer whose vocabulary mixes
single characters with multi-character pieces (as real tokenizers do), so every branch of the
walk is taken with arbitrary preferences; the output must always validate under the schema.
"""

from __future__ import annotations

import json

import jsonschema
import pytest
import torch

from tools.llm.constrained import SchemaDecoder, SchemaError, TokenTable, check_schema

PIECES = ['{"', '":', ' "', '",', '"}', "}}", "]}", ", ", "null", "true", "false", "Horror", "Sci", "-Fi",
          "Comedy", "19", "20", "the ", "ing", "tool", "args", "query", "search", "similar", "_items",
          " [", "},", '."', 'o"', "e\\", "\n", '"},', '"]', '"],', '"]}', '"}}', '],', '}]', '}}]']


class PieceTokenizer:
    """Greedy longest-match over printable ASCII characters and the pieces above."""

    def __init__(self):
        self.vocab = ["<pad>", "<eos>", "<bos>"] + [chr(c) for c in range(32, 127)] + PIECES
        self.ids = {t: i for i, t in enumerate(self.vocab)}
        self.all_special_ids = [0, 1, 2]

    def __len__(self):
        return len(self.vocab)

    def convert_ids_to_tokens(self, ids):
        return [self.vocab[i] for i in ids]

    def encode(self, text, add_special_tokens=False):
        out, i = [], 0
        while i < len(text):
            piece = max((p for p in self.vocab[3:] if text.startswith(p, i)), key=len)
            out.append(self.ids[piece])
            i += len(piece)
        return out


class RandomModel:
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
TABLE = TokenTable.build(TOKENIZER)
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
    "scalars": {"type": "object", "required": ["a", "b", "c", "d"], "additionalProperties": False,
                "properties": {"a": {"type": "boolean"}, "b": {"type": ["integer", "null"], "minimum": -5, "maximum": 7},
                               "c": {"type": "string", "minLength": 2, "maxLength": 4},
                               "d": {"type": "number", "minimum": 1995, "maximum": 1998},
                               "e": {"const": {"x": [1, None]}}}},
    "list": {"type": "array", "minItems": 2, "maxItems": 5,
             "items": {"type": "integer", "minimum": 0, "maximum": 10_000}},
}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_any_preference_gives_valid_json(name):
    schema = SCHEMAS[name]
    for seed in range(40):
        model = RandomModel(len(TOKENIZER), seed)
        decoder = SchemaDecoder(model, TOKENIZER, TABLE, max_tokens=200)
        decoder.value(schema)
        text = "".join(decoder.parts)
        jsonschema.validate(json.loads(text), schema)
        # what the model was fed is exactly the text returned (no hidden or lost tokens)
        assert "".join(TOKENIZER.vocab[i] for i in model.fed) + decoder.pending == text


@pytest.mark.parametrize("budget", [1, 5, 12])
def test_spent_budget_still_closes_the_json(budget):
    for seed in range(10):
        free = SchemaDecoder(RandomModel(len(TOKENIZER), seed), TOKENIZER, TABLE, max_tokens=10_000)
        free.value(PLAN)
        decoder = SchemaDecoder(RandomModel(len(TOKENIZER), seed), TOKENIZER, TABLE, max_tokens=budget)
        decoder.value(PLAN)
        jsonschema.validate(json.loads("".join(decoder.parts)), PLAN)
        # the budget cuts only a plan that needs it, and leaves a shorter one as the model wrote it
        assert decoder.truncated == (free.chosen >= budget)
        if free.chosen < budget:
            assert decoder.parts == free.parts


@pytest.mark.parametrize("schema,words", [
    ({"type": "strnig"}, "unknown type"),
    ({"type": "string", "pattern": "^a"}, "pattern"),
    ({"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}}, "$ref"),
    ({"type": "object", "properties": {}, "required": ["x"]}, "not in properties"),
    ({"enum": []}, "non-empty"),
    ([1, 2], "must be an object"),
    ({"type": "integer", "minimum": 5, "maximum": 1}, "minimum > maximum"),
    ({"type": "array", "items": {"type": "integer"}, "minItems": 3, "maxItems": 2}, "minItems > maxItems"),
])
def test_unsupported_schema_is_refused_by_name(schema, words):
    with pytest.raises(SchemaError) as info:
        check_schema(schema)
    assert words in str(info.value)


def test_many_items_without_a_maximum_is_a_schema_the_decoder_writes():
    schema = {"type": "array", "items": {"type": "integer"}, "minItems": 10}
    check_schema(schema)
    decoder = SchemaDecoder(RandomModel(len(TOKENIZER), 0), TOKENIZER, TABLE, max_tokens=400)
    decoder.value(schema)
    jsonschema.validate(json.loads("".join(decoder.parts)), schema)
