"""The tool registry: every tool the planners call, each a function with pydantic arguments.

A tool is ``def name(args: ArgsModel, ctx: ToolContext) -> ResultModel`` with a docstring, and
one line registers it (``@REGISTRY.tool``). The registry turns each into a langchain-core
``StructuredTool``; every call goes through it, so arguments are validated by the tool's model
(an LLM's as much as the offline planner's), and the result is checked against the declared
result type. The offline planner (``agent/nodes.py``) and the LLM planner (``agent/planner.py``)
call the same tools. What a call may touch comes from ``ToolContext``, never from arguments:
the user (memory tools cannot reach another user) and the hard filter the person's own words
set (``must``), which every item-producing tool applies on top of its arguments.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, get_type_hints

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field

from agent.vocabulary import MAX_MESSAGE
from tools.catalog import Catalog, ItemFilter
from tools.constraints import Constraints
from tools.recommend import Recommender, Retrieval
from tools.retrievers import Candidate

ItemRef = int | str  # a catalog item id, or a title resolved through the catalog
MAX_ITEMS = 200


class ToolError(ValueError):
    """A tool could not do what its (valid) arguments ask, e.g. a title that is not in the catalog."""


@dataclass
class ToolContext:
    """What a tool call may use besides its arguments: set by the planner for one turn."""

    recommender: Recommender
    user_id: str = "anonymous"
    session_id: str | None = None
    memory: Any = None  # memory.PreferenceMemory, or None
    history: list[int] = field(default_factory=list)  # the person's long-term items, oldest first
    liked: list[int] = field(default_factory=list)  # films liked in this conversation (weigh most)
    remembered: list[int] = field(default_factory=list)  # of history and liked, the likes memory holds
    picked: list[int] = field(default_factory=list)  # of liked, films picked from lists shown to the person
    asked: Constraints = field(default_factory=Constraints)  # the person's own constraints
    exclude: list[int] = field(default_factory=list)  # items the person has seen, rated or been shown
    also: list[ItemFilter] = field(default_factory=list)  # remembered genres or eras: their best join `recommend`
    vibe: str = ""  # the person's own words beyond the constraints (joined to a tool's query)
    lean: dict[str, float] = field(default_factory=dict)  # genre -> how the tones asked lean to it
    use_cf: bool = True
    use_text: bool = True
    turn: int = 0

    @property
    def catalog(self) -> Catalog:
        return self.recommender.catalog

    @cached_property
    def must(self) -> ItemFilter:
        """The catalog's query for the person's constraints and exclusions: every item-producing tool's floor."""
        return self.asked.to_filter(self.recommender, self.exclude)

    def signals(self) -> dict[str, Any]:
        """What ``Recommender.candidates`` ranks by for this person, besides the filter."""
        return dict(liked=self.liked, history=self.history, vibe=self.vibe, use_cf=self.use_cf,
                    use_text=self.use_text, turn=self.turn, remembered=self.remembered, picked=self.picked,
                    lean=self.lean)


# ---- argument and result models -------------------------------------------------------------
class ToolConstraints(Constraints):
    """The person's ``Constraints`` model as a tool's arguments, bounded for an LLM's schema: the
    person's own (``ToolContext.asked``) win."""

    genres: list[str] = Field(default_factory=list, max_length=6, description="any of these genres")
    genres_none: list[str] = Field(default_factory=list, max_length=6, description="none of these genres")
    year_min: int | None = Field(None, ge=1900, le=2030)
    year_max: int | None = Field(None, ge=1900, le=2030)
    directors: list[str] = Field(default_factory=list, max_length=4, description="directed by any of these")


class ItemList(BaseModel):
    """Items out of a tool, best first, with what the tool could not resolve."""

    items: list[Candidate] = Field(default_factory=list)
    available: int = Field(0, description="items meeting the constraints before the cut")
    unresolved: list[str] = Field(default_factory=list, description="titles or ids not in the catalog")


class FindTitlesArgs(BaseModel):
    model_config = {"extra": "forbid"}
    titles: list[str] = Field(min_length=1, max_length=10, description="titles as the person wrote them")


class TitleFound(BaseModel):
    query: str
    status: Literal["exact", "fuzzy", "ambiguous", "none"]
    item_ids: list[int] = Field(default_factory=list, description="the match, or the candidates when ambiguous")
    labels: list[str] = Field(default_factory=list)


class TitlesFound(BaseModel):
    titles: list[TitleFound]


class FilterArgs(ToolConstraints):
    k: int = Field(20, ge=1, le=MAX_ITEMS)


class RecommendArgs(ToolConstraints):
    liked: list[ItemRef] = Field(default_factory=list, max_length=20,
                                 description="films to find more like (ids or titles), besides the person's")
    query: str = Field("", max_length=MAX_MESSAGE, description="words describing what is wanted, beyond the constraints")
    k: int = Field(100, ge=1, le=MAX_ITEMS)


class SimilarArgs(BaseModel):
    model_config = {"extra": "forbid"}
    item: ItemRef = Field(description="a catalog item id or a title")
    k: int = Field(20, ge=1, le=MAX_ITEMS)


class SearchArgs(ToolConstraints):
    query: str = Field(min_length=1, max_length=300, description="what the films should be about")
    k: int = Field(20, ge=1, le=MAX_ITEMS)


class RerankArgs(BaseModel):
    model_config = {"extra": "forbid"}
    item_ids: list[int] = Field(min_length=1, max_length=MAX_ITEMS, description="the candidate set, best first")
    scores: list[float] | None = Field(None, description="retrieval scores, one per item (default: by position)")
    preferred: list[int] = Field(default_factory=list, description="candidates kept first")
    weight: float | None = Field(None, ge=0.0, le=1.0, description="the generator's share of the fused order "
                                 "(0: the retrieval order; default: the reranker's own, tuned offline)")
    k: int = Field(MAX_ITEMS, ge=1, le=MAX_ITEMS)


class MemoryQueryArgs(BaseModel):
    model_config = {"extra": "forbid"}
    query: str = Field(min_length=1, max_length=MAX_MESSAGE, description="what the memories should be relevant to")


class MemoryRead(BaseModel):
    records: list[Any] = Field(default_factory=list, description="memory.MemoryRecord, oldest first")
    relevance: dict[str, float] = Field(default_factory=dict, description="record key -> similarity to the query")


# ---- the registry ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    args: type[BaseModel]
    result: type[BaseModel]
    fn: Callable[[Any, ToolContext], BaseModel]
    llm: bool = True  # offered to an LLM planner

    @property
    def yields_items(self) -> bool:
        """Whether the result is a list of recommendable items (what a reply may show)."""
        return "items" in self.result.model_fields or "candidates" in self.result.model_fields


class Registry:
    """Tools by name; ``call`` validates arguments and results through langchain-core."""

    def __init__(self) -> None:
        self.specs: dict[str, ToolSpec] = {}

    def tool(self, fn: Callable[..., BaseModel] | None = None, *, llm: bool = True) -> Any:
        """Register ``fn(args: Model, ctx: ToolContext) -> Result``; its docstring is its description.
        ``@REGISTRY.tool`` offers it to an LLM planner too; ``@REGISTRY.tool(llm=False)`` keeps it
        for the rules (writes, and tools whose arguments only our own code can fill)."""
        if fn is None:
            return lambda f: self.tool(f, llm=llm)
        hints = get_type_hints(fn)
        params = list(inspect.signature(fn).parameters)
        if len(params) != 2 or params[1] != "ctx":
            raise TypeError(f"a tool is fn(args, ctx); {fn.__name__} takes {params}")
        doc = inspect.getdoc(fn) or ""
        if not doc:
            raise TypeError(f"tool {fn.__name__} needs a docstring: it is the LLM's description")
        self.specs[fn.__name__] = ToolSpec(fn.__name__, doc.split("\n\n")[0].replace("\n", " "),
                                           hints[params[0]], hints["return"], fn, llm)
        return fn

    @property
    def names(self) -> list[str]:
        return list(self.specs)

    @property
    def llm_names(self) -> list[str]:
        """The tools an LLM planner is given."""
        return [n for n, spec in self.specs.items() if spec.llm]

    def as_langchain(self, name: str, ctx: ToolContext) -> StructuredTool:
        spec = self.specs[name]
        return StructuredTool.from_function(func=lambda **kw: spec.fn(spec.args(**kw), ctx), name=spec.name,
                                            description=spec.description, args_schema=spec.args)

    def call(self, name: str, args: dict[str, Any], ctx: ToolContext) -> BaseModel:
        """Run one tool. Raises ``KeyError`` (no such tool), ``ValidationError`` (bad arguments) or
        ``ToolError`` (the tool could not do it); the result is always of the declared type."""
        if name not in self.specs:
            raise KeyError(f"no tool named {name!r}; tools: {', '.join(self.specs)}")
        result = self.as_langchain(name, ctx).invoke(dict(args))
        return self.specs[name].result.model_validate(result)

    def json_schema(self, name: str, genres: Sequence[str]) -> dict[str, Any]:
        """The tool's argument schema as an LLM sees it: ``$ref``-free, genre names an enum of
        ``genres``, and films named by title (the argument models also take ids, for our own calls)."""
        schema = _inline(self.specs[name].args.model_json_schema())
        for prop in schema.get("properties", {}).values():
            ref = prop.get("items", prop)
            if ref.get("anyOf") == [{"type": "integer"}, {"type": "string"}]:
                ref.pop("anyOf")
                ref.update(type="string", maxLength=200)
        for key in ("genres", "genres_none", "genre"):
            prop = schema.get("properties", {}).get(key)
            if prop is None:
                continue
            if prop.get("type") == "array":
                prop["items"] = {"type": "string", "enum": list(genres)}
            else:
                prop["anyOf"] = [{"type": "string", "enum": list(genres)}, {"type": "null"}]
        return schema

    def openai_tools(self, names: Sequence[str], genres: Sequence[str]) -> list[dict[str, Any]]:
        """The tools in the chat-completions ``tools`` format (native tool calls)."""
        return [{"type": "function", "function": {"name": n, "description": self.specs[n].description,
                                                  "parameters": self.json_schema(n, genres)}} for n in names]

    def plan_schema(self, names: Sequence[str], genres: Sequence[str], max_steps: int) -> dict[str, Any]:
        """A plan as JSON: ``{"steps": [{"tool": name, "args": {...}}, ...]}``; tool names are
        constants of a union, so each step's arguments follow that tool's own schema."""
        steps = [{"type": "object", "additionalProperties": False, "required": ["tool", "args"],
                  "properties": {"tool": {"const": n}, "args": self.json_schema(n, genres)}} for n in names]
        return {"type": "object", "additionalProperties": False, "required": ["steps"],
                "properties": {"steps": {"type": "array", "minItems": 1, "maxItems": max_steps,
                                         "items": {"anyOf": steps}}}}


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace ``$ref`` by the definitions they name and drop pydantic's ``title`` keys: some
    servers' JSON-schema grammars do not follow references."""
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]]))
            return {k: walk(v) for k, v in node.items() if k not in ("$defs", "title")}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


REGISTRY = Registry()


# ---- helpers the tools share ----------------------------------------------------------------
def resolve_items(refs: Sequence[ItemRef], catalog: Catalog) -> tuple[list[int], list[str]]:
    """Catalog ids for ids or titles, and the refs that name nothing (or more than one film)."""
    found, missing = [], []
    for ref in refs:
        if isinstance(ref, int):
            (found if ref in catalog else missing).append(ref if ref in catalog else str(ref))
            continue
        item_id = catalog.resolve_title(ref[:200]).item_id
        if item_id is None:
            missing.append(ref[:200])
        else:
            found.append(item_id)
    return list(dict.fromkeys(found)), missing


def effective_filter(args: ToolConstraints, ctx: ToolContext) -> ItemFilter:
    """The arguments' constraints under the person's own (``Constraints.within``), with the
    person's exclusions; genre names are made the catalog's."""
    catalog = ctx.catalog
    unknown = [x for x in [*args.genres, *args.genres_none] if catalog.canonical_genre(x) is None]
    if unknown:
        raise ToolError(f"not catalog genres: {unknown}; genres are {', '.join(catalog.genres)}")
    directors = {d.lower() for d in catalog.directors}
    strangers = [d for d in args.directors if d.lower() not in directors]
    if strangers:  # a name the film knowledge lacks would filter everything out
        raise ToolError(f"directors the catalog does not know: {strangers}")
    own = Constraints(**args.model_dump(include=set(Constraints.model_fields)))
    own.genres = [catalog.canonical_genre(x) for x in args.genres]
    own.genres_none = [catalog.canonical_genre(x) for x in args.genres_none]
    return own.within(ctx.asked).to_filter(ctx.recommender, ctx.exclude)


def result_items(result: BaseModel) -> list[Candidate]:
    """The recommendable items of a tool result ([] for tools that return none)."""
    items = getattr(result, "items", None)
    return list(items if items is not None else getattr(result, "candidates", None) or [])


def _items(ids: Sequence[int], scores: Sequence[float] | None = None, source: str = "") -> list[Candidate]:
    scores = list(scores) if scores is not None else [float(-r) for r in range(len(ids))]
    return [Candidate(item_id=i, score=s, sources=[source] if source else []) for i, s in zip(ids, scores, strict=True)]


# ---- the tools --------------------------------------------------------------------------------
@REGISTRY.tool
def find_titles(args: FindTitlesArgs, ctx: ToolContext) -> TitlesFound:
    """Look films up in the catalog by title: the match, the candidates when ambiguous, or none."""
    out = []
    for title in args.titles:
        res = ctx.catalog.resolve_title(title[:200])
        ids = [m.item_id for m in res.matches] if res.status == "ambiguous" else (
            [res.item_id] if res.item_id is not None else [])
        out.append(TitleFound(query=title[:200], status=res.status, item_ids=ids,
                              labels=[i.label for i in ctx.catalog.get(ids)]))
    return TitlesFound(titles=out)


@REGISTRY.tool
def filter_catalog(args: FilterArgs, ctx: ToolContext) -> ItemList:
    """Films meeting constraints (genres, years, popularity), most watched first."""
    ids = ctx.catalog.filter(effective_filter(args, ctx))
    return ItemList(items=_items(ids[: args.k], source="popularity"), available=len(ids))


@REGISTRY.tool
def recommend(args: RecommendArgs, ctx: ToolContext) -> Retrieval:
    """Personal picks within constraints, best first: collaborative filtering over the person's
    history and liked films, text similarity to the words, and popularity, weighted by the
    evidence, then ordered by the generative reranker."""
    liked, missing = resolve_items(args.liked, ctx.catalog)
    found = ctx.recommender.recommend(effective_filter(args, ctx), k=args.k, also=ctx.also, **{
        **ctx.signals(), "liked": list(dict.fromkeys(ctx.liked + liked)), "vibe": " ".join([ctx.vibe, args.query]).strip()})
    if missing:
        found.unresolved = missing
    return found


@REGISTRY.tool
def similar_items(args: SimilarArgs, ctx: ToolContext) -> ItemList:
    """Films people who liked one film also liked (the CF model's nearest items)."""
    ids, missing = resolve_items([args.item], ctx.catalog)
    if not ids:  # a film we do not hold has no neighbours: nothing found, as a search would say
        return ItemList(unresolved=missing)
    # neighbours are taken wide, then the person's constraints and exclusions cut them
    near = ctx.recommender.similar(ids[0], k=max(4 * args.k, 50))
    ok = ctx.catalog.satisfies(near, ctx.must)
    kept = [i for i, good in zip(near, ok, strict=True) if good and i != ids[0]]
    return ItemList(items=_items(kept[: args.k], source="cf"), available=len(kept))


@REGISTRY.tool
def semantic_search(args: SearchArgs, ctx: ToolContext) -> ItemList:
    """Films whose descriptions are closest in meaning to the words, within constraints."""
    found = ctx.recommender.search(effective_filter(args, ctx), args.query, k=args.k)
    return ItemList(items=found.candidates, available=found.available)


@REGISTRY.tool(llm=False)  # compose reranks what the LLM's tools returned; ids are ours to pass
def rerank(args: RerankArgs, ctx: ToolContext) -> ItemList:
    """Reorder a candidate set for the person with the generative reranker; its output is
    always a subset of the candidates (constrained decoding)."""
    unknown = [i for i in args.item_ids if i not in ctx.catalog]
    if unknown:
        raise ToolError(f"item ids not in the catalog: {unknown[:5]}")
    if args.scores is not None and len(args.scores) != len(args.item_ids):
        raise ToolError("scores must have one value per item id")
    ids = list(dict.fromkeys(args.item_ids))
    scores = args.scores if args.scores is not None and len(ids) == len(args.item_ids) else None
    ranked = ctx.recommender.rerank(_items(ids, scores), ctx.history + ctx.liked, preferred=args.preferred,
                                    weight=args.weight, genres=ctx.must.genres_any)
    return ItemList(items=ranked[: args.k], available=len(ids))


@REGISTRY.tool
def memory_read(args: MemoryQueryArgs, ctx: ToolContext) -> MemoryRead:
    """What is remembered about this person (their own records only), with each record's
    relevance to the words."""
    if ctx.memory is None:
        return MemoryRead()
    records, relevance = ctx.memory.read(ctx.user_id, args.query)
    return MemoryRead(records=records, relevance=relevance)
