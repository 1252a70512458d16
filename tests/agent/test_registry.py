"""The tool registry: one function plus one registration per tool, validated both ways, and the
person's own constraints binding every item-producing tool."""

import jsonschema
import pytest
from pydantic import BaseModel, Field, ValidationError

from agent.registry import (
    REGISTRY,
    ItemList,
    Registry,
    ToolConstraints,
    ToolContext,
    ToolError,
    effective_filter,
    result_items,
)
from tools.catalog import ItemFilter
from tools.constraints import Constraints
from tools.retrievers import Candidate


@pytest.fixture(scope="module")
def rec(small_rec):
    return small_rec.tools.recommender


def ctx_for(rec, **kw):
    return ToolContext(recommender=rec, **kw)


def test_every_tool_has_typed_arguments_a_result_type_and_a_description():
    assert {"find_titles", "filter_catalog", "recommend", "similar_items", "semantic_search", "rerank",
            "memory_read"} <= set(REGISTRY.names)
    for spec in REGISTRY.specs.values():
        assert issubclass(spec.args, BaseModel) and issubclass(spec.result, BaseModel)
        assert len(spec.description) > 20


def test_a_new_tool_is_one_function_and_one_registration(rec):
    registry = Registry()

    class DecadeArgs(BaseModel):
        model_config = {"extra": "forbid"}
        decade: int = Field(ge=1900, le=2020, multiple_of=10)
        k: int = Field(5, ge=1, le=50)

    @registry.tool
    def best_of_decade(args: DecadeArgs, ctx: ToolContext) -> ItemList:
        """The most watched films of one decade, under the person's constraints."""
        ids = ctx.catalog.filter(ctx.must.model_copy(update={"year_min": args.decade, "year_max": args.decade + 9}))
        return ItemList(items=[Candidate(item_id=i, score=0.0) for i in ids[: args.k]], available=len(ids))

    out = registry.call("best_of_decade", {"decade": 1970}, ctx_for(rec))
    years = [i.year for i in rec.catalog.get([c.item_id for c in out.items])]
    assert len(years) == 5 and all(1970 <= y <= 1979 for y in years)
    with pytest.raises(ValidationError):
        registry.call("best_of_decade", {"decade": 1975}, ctx_for(rec))
    with pytest.raises(ValidationError):
        registry.call("best_of_decade", {"decade": 1970, "extra": 1}, ctx_for(rec))
    schema = registry.plan_schema(["best_of_decade"], rec.catalog.genres, max_steps=2)
    jsonschema.validate({"steps": [{"tool": "best_of_decade", "args": {"decade": 1980}}]}, schema)
    tool = registry.openai_tools(["best_of_decade"], rec.catalog.genres)[0]["function"]
    assert tool["name"] == "best_of_decade" and tool["parameters"]["properties"]["decade"]["multipleOf"] == 10
    liked = REGISTRY.json_schema("recommend", rec.catalog.genres)["properties"]["liked"]
    assert liked["items"]["type"] == "string"  # an LLM names films by title; our own calls may pass ids
    assert registry.llm_names == ["best_of_decade"]
    with pytest.raises(TypeError):  # a tool without a docstring has nothing to tell an LLM
        registry.tool(lambda args, ctx: ItemList())
    assert "memory_write" not in REGISTRY.llm_names and "rerank" not in REGISTRY.llm_names


def test_unknown_tools_and_bad_arguments_raise_clear_errors(rec):
    with pytest.raises(KeyError, match="no tool named"):
        REGISTRY.call("drop_tables", {}, ctx_for(rec))
    with pytest.raises(ValidationError):
        REGISTRY.call("recommend", {"year_min": 1700}, ctx_for(rec))
    with pytest.raises(ToolError, match="not catalog genres"):
        REGISTRY.call("recommend", {"genres": ["Anime"]}, ctx_for(rec))
    nothing = REGISTRY.call("similar_items", {"item": "Qwzxv Blorptastic"}, ctx_for(rec))
    assert nothing.items == [] and nothing.unresolved == ["Qwzxv Blorptastic"]  # found nothing, said so
    with pytest.raises(ToolError, match="not in the catalog"):
        REGISTRY.call("rerank", {"item_ids": [99999]}, ctx_for(rec))


@pytest.mark.parametrize("asked,args,check", [
    # the person's wanted genres are not widened by the arguments'
    (dict(genres=["Comedy"]), dict(genres=["Horror"]), lambda f: f.genres_any == ["Comedy"]),
    # the person's exclusion wins over an argument that asks for that genre
    (dict(genres_none=["Drama"]), dict(genres=["Drama", "War"]), lambda f: f.genres_any == ["War"] and "Drama" in f.genres_none),
    # an argument cannot exclude what the person asked for
    (dict(genres=["Horror"]), dict(genres_none=["Horror", "Romance"]), lambda f: f.genres_none == ["Romance"]),
    # years: the person's bound on each side they set; the argument only fills a side they left open
    (dict(year_max=1969), dict(year_min=1950, year_max=1999), lambda f: (f.year_min, f.year_max) == (1950, 1969)),
    # what the rules found nothing for, the arguments may add
    (dict(), dict(genres=["Western"], popularity="popular"), lambda f: f.genres_any == ["Western"] and f.min_popularity),
    # the person's popularity wins over the arguments'
    (dict(popularity="obscure"), dict(popularity="popular"), lambda f: f.max_popularity and f.min_popularity is None),
])
def test_the_persons_words_win_over_tool_arguments(rec, asked, args, check):
    flt = effective_filter(ToolConstraints(**args), ctx_for(rec, asked=Constraints(**asked), exclude=[3, 1, 2]))
    assert check(flt), flt
    assert flt.exclude == [1, 2, 3]  # exclusions (seen, shown, disliked) always stay


def test_a_tool_takes_the_persons_constraints_model_bounded_for_an_llm(rec):
    assert issubclass(ToolConstraints, Constraints)
    schema = REGISTRY.json_schema("recommend", rec.catalog.genres)["properties"]
    assert schema["genres"]["maxItems"] == 6 and schema["year_min"]["anyOf"][0]["minimum"] == 1900
    with pytest.raises(ValidationError):
        ToolConstraints(year_min=1850)  # plausible for a person ("before 1850"), not an LLM's argument


def test_item_tools_keep_to_the_persons_constraints(rec):
    fargo = rec.catalog.resolve_title("Fargo").item_id
    ctx = ctx_for(rec, asked=Constraints(genres_none=["Crime", "Drama"], year_min=1980))
    for name, args in [("similar_items", {"item": "Fargo", "k": 15}), ("recommend", {"liked": [fargo], "k": 30}),
                       ("semantic_search", {"query": "a kidnapping in the snow", "k": 15}),
                       ("filter_catalog", {"genres": ["Comedy"], "k": 15})]:
        items = rec.catalog.get([c.item_id for c in result_items(REGISTRY.call(name, args, ctx))])
        assert items, name
        assert all(not {"Crime", "Drama"} & set(i.genres) and i.year >= 1980 for i in items), name
        assert fargo not in [i.item_id for i in items]


def test_rerank_returns_a_subset_of_its_candidates(rec):
    ids = rec.catalog.filter(ItemFilter(genres_any=["Comedy"]))[:25]
    out = REGISTRY.call("rerank", {"item_ids": ids, "k": 10}, ctx_for(rec, history=ids[25:40]))
    assert len(out.items) == 10 and {c.item_id for c in out.items} <= set(ids)


def test_find_titles_reports_found_ambiguous_and_unknown(rec):
    out = REGISTRY.call("find_titles", {"titles": ["Fargo", "Qwzxv Blorptastic"]}, ctx_for(rec))
    assert out.titles[0].status in ("exact", "fuzzy") and out.titles[0].labels == ["Fargo (1996)"]
    assert out.titles[1].status == "none" and out.titles[1].item_ids == []


def test_memory_read_reaches_only_the_users_own_records(small_rec, rec):
    from memory import MemoryRecord

    memory = small_rec.memory
    fargo = rec.catalog.resolve_title("Fargo").item_id
    alice, bob = ctx_for(rec, memory=memory, user_id="reg-alice"), ctx_for(rec, memory=memory, user_id="reg-bob")
    memory.add_many([MemoryRecord(user_id="reg-alice", kind="like", item_id=fargo, text="likes Fargo"),
                     MemoryRecord(user_id="reg-alice", kind="genre_dislike", genre="Horror", text="hates horror")])
    mine = REGISTRY.call("memory_read", {"query": "a film like Fargo"}, alice)
    theirs = REGISTRY.call("memory_read", {"query": "a film like Fargo"}, bob)
    assert {(r.kind, r.item_id, r.genre) for r in mine.records} == {("like", fargo, None), ("genre_dislike", None, "Horror")}
    assert theirs.records == []
    with pytest.raises(ValidationError):  # the user is the context's, never an argument
        REGISTRY.call("memory_read", {"query": "x", "user_id": "reg-alice"}, bob)
