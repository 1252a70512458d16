"""The real local LLM (`convrec llm serve`, Gemma 3 270M) answers the planner's request forms.

Each request costs about a second or more on CPU, so the prompts are few and each one checks a lot.
"""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import jsonschema
import pytest
from pydantic import BaseModel, Field

GENRES = ["Action", "Comedy", "Horror", "Sci-Fi", "Romance", "Animation"]


def _plan_schema(query_chars: int) -> dict:
    """The planner's shape: a list of tool steps, each tool a const with its own argument schema."""
    year = {"anyOf": [{"type": "integer", "minimum": 1920, "maximum": 1998}, {"type": "null"}]}
    return {
        "type": "object", "additionalProperties": False, "required": ["steps"], "title": "Plan",
        "properties": {"steps": {"type": "array", "minItems": 1, "maxItems": 3, "items": {"anyOf": [
            {"type": "object", "additionalProperties": False, "required": ["tool", "args"],
             "properties": {"tool": {"const": "semantic_search"},
                            "args": {"type": "object", "additionalProperties": False, "required": ["query"],
                                     "properties": {
                                         "query": {"type": "string", "maxLength": query_chars,
                                                   "description": "what to look for"},
                                         "genres": {"type": "array", "maxItems": 2, "items": {"enum": GENRES}},
                                         "year_min": year, "year_max": year}}}},
            {"type": "object", "additionalProperties": False, "required": ["tool", "args"],
             "properties": {"tool": {"const": "similar_items"},
                            "args": {"type": "object", "additionalProperties": False, "required": ["title"],
                                     "properties": {"title": {"type": "string", "maxLength": 60},
                                                    "k": {"type": "integer", "minimum": 1, "maximum": 20,
                                                          "default": 10}}}}},
            {"type": "object", "additionalProperties": False, "required": ["tool", "args"],
             "properties": {"tool": {"enum": ["answer"]},
                            "args": {"type": "object", "additionalProperties": False, "properties": {}}}},
        ]}}},
    }


FEW_SHOT = """Turn a request for movies into a plan of tool calls, as JSON.

Request: funny robots from the eighties
Plan: {"steps": [{"tool": "semantic_search", "args": {"query": "funny robots", "genres": ["Comedy", "Sci-Fi"], "year_min": 1980, "year_max": 1989}}, {"tool": "answer", "args": {}}]}

Request: more like Heat please
Plan: {"steps": [{"tool": "similar_items", "args": {"title": "Heat", "k": 10}}, {"tool": "answer", "args": {}}]}

Request: """

# several phrasings, each pulling towards a different branch; a short maxLength forces truncation
REQUESTS = [
    ("a creepy haunted house movie made before 1960, lots of suspense and old-fashioned scares", 12),
    ("something like Toy Story for my kids", 40),
    ("romantic comedies from 1995 with a happy ending", 30),
]


def _post(llm, path: str, body: dict) -> httpx.Response:
    return httpx.post(f"{llm.base_url}{path}", json={"model": llm.model, **body}, timeout=120)


def test_models_lists_gemma(real_llm):
    models = httpx.get(f"{real_llm.base_url}/models", timeout=10).json()
    assert real_llm.model in [m["id"] for m in models["data"]]


@pytest.mark.parametrize("request_text,query_chars", REQUESTS)
def test_completion_is_valid_json_under_the_schema(real_llm, request_text, query_chars):
    schema = _plan_schema(query_chars)
    response = _post(real_llm, "/completions", {
        "prompt": FEW_SHOT + request_text + "\nPlan:", "max_tokens": 160, "temperature": 0,
        "stop": ["\n\n"], "json_schema": schema})
    assert response.status_code == 200, response.text
    body = response.json()
    plan = json.loads(body["choices"][0]["text"])
    jsonschema.validate(plan, schema)  # consts, enums, maxItems, integer bounds, maxLength, no extra keys
    assert body["usage"]["prompt_tokens"] > 100 and body["usage"]["completion_tokens"] > 0


def test_chat_answers_as_assistant(real_llm):
    response = _post(real_llm, "/chat/completions", {
        "messages": [{"role": "system", "content": "You recommend movies."},
                     {"role": "user", "content": "Name one classic western."}],
        "max_tokens": 24, "temperature": 0})
    assert response.status_code == 200, response.text
    choice = response.json()["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert isinstance(choice["message"]["content"], str) and choice["message"]["content"].strip()


def test_chat_with_response_format_schema(real_llm):
    schema = {"type": "object", "additionalProperties": False, "required": ["genre", "year"],
              "properties": {"genre": {"enum": GENRES}, "year": {"type": "integer", "minimum": 1930, "maximum": 1998}}}
    response = _post(real_llm, "/chat/completions", {
        "messages": [{"role": "user", "content": "Which genre and year fit 'a 1984 action movie'? Answer in JSON."}],
        "max_tokens": 40, "temperature": 0,
        "response_format": {"type": "json_schema", "json_schema": {"name": "pick", "schema": schema}}})
    assert response.status_code == 200, response.text
    jsonschema.validate(json.loads(response.json()["choices"][0]["message"]["content"]), schema)


class DecadeArgs(BaseModel):  # the README's worked example of a new tool
    decade: int = Field(ge=1900, le=2020, multiple_of=10)
    k: int = Field(5, ge=1, le=50)


def test_the_readme_tool_schema_gives_valid_arguments(real_llm):
    """Its schema as pydantic writes it (`multipleOf`, `default`, `title`; other keys allowed)."""
    schema = DecadeArgs.model_json_schema()
    prompt = ('Best films of the eighties: {"decade": 1980, "k": 5}\n'
              'Best films of the fifties: {"decade": 1950, "k": 5}\nBest films of the seventies: ')
    response = _post(real_llm, "/completions", {"prompt": prompt, "max_tokens": 40, "temperature": 0,
                                                "json_schema": schema})
    assert response.status_code == 200, response.text
    text = response.json()["choices"][0]["text"]
    jsonschema.validate(json.loads(text), schema)
    assert DecadeArgs.model_validate_json(text).decade % 10 == 0


@pytest.mark.parametrize("schema,words", [
    ({"type": "object", "properties": {"genre": {"type": "strnig"}}, "required": ["genre"]}, "strnig"),
    ({"type": "array", "items": {"type": "integer"}, "uniqueItems": True}, "uniqueItems"),
])
def test_a_schema_the_decoder_cannot_compile_is_a_clear_client_error(real_llm, schema, words):
    response = _post(real_llm, "/completions", {"prompt": "Genre:", "max_tokens": 8, "json_schema": schema})
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]["message"]
    # the server is still serving
    assert httpx.get(f"{real_llm.base_url}/models", timeout=10).status_code == 200


def test_the_server_has_its_own_entry_point():
    """`python -m tools.llm serve` (what `convrec llm serve` runs) refuses an unknown engine by name,
    before loading anything."""
    process = subprocess.run([sys.executable, "-m", "tools.llm", "serve", "--engine", "vllm", "--port", "1"],
                             capture_output=True, text=True, timeout=60)
    assert process.returncode == 1
    assert "unknown engine 'vllm'" in process.stderr
