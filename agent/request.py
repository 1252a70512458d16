"""What one user message asks for, as understood (offline parser or LLM; both fill this model)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tools.constraints import Constraints, Kind

Intent = Literal["recommend", "refine", "feedback", "ask_item", "reset", "smalltalk"]
# what a question about one film asks (issue 22): its story, whether it is scary, who directed it,
# how long it is, its MPAA rating, its year, its genres, who is in it, what critics thought
Question = Literal["plot", "scary", "director", "runtime", "rating", "year", "genre", "cast", "reviews"]


class Unfilterable(BaseModel):
    """Something asked for that the catalog has no data on: cast (none), a director it does not
    know, or a person named with no word saying which ("person": actor or director, we cannot tell)."""

    kind: Literal["cast", "director", "person"]
    text: str = Field(max_length=80)


class Request(BaseModel):
    """A parsed message. Item ids are catalog ``item_id`` values, already resolved.

    ``constraints`` are what the message says of the films; how they change the session's is said
    by ``mode``, ``genres_drop``, ``clear`` and ``relative_year`` (``SessionPrefs.apply``)."""

    intent: Intent = "recommend"
    liked_items: list[int] = Field(default_factory=list, description="items the user likes / wants more like")
    disliked_items: list[int] = Field(default_factory=list, description="items the user dislikes / wants nothing like")
    unknown_titles: list[str] = Field(default_factory=list, description="titles that matched nothing")
    unknown_liked: list[str] = Field(default_factory=list, description="of those, the ones wanted more like "
                                     "(their words still steer the text retrieval)")
    ambiguous_titles: dict[str, list[int]] = Field(default_factory=dict, description="title -> candidate ids")
    constraints: Constraints = Field(default_factory=Constraints, description="genres wanted and excluded, "
                                     "year bounds, popularity, as said in this message")
    relative_year: Literal["older", "newer"] | None = Field(None, description="relative to what was shown")
    shown_liked: list[int] = Field(default_factory=list, description="0-based positions in the last list shown")
    shown_disliked: list[int] = Field(default_factory=list, description="0-based positions in the last list shown")
    ask_about: int | None = Field(None, description="item the user asks about (intent ask_item)")
    vibe: str = Field("", description="free text left after constraints, for semantic retrieval")
    mode: Literal["add", "replace"] | None = Field(
        None, description="genres and liked items: 'add' (also, too, still, funnier) to the session's, "
                          "'replace' them (instead, actually); None: genres replace, liked items add")
    genres_drop: list[str] = Field(default_factory=list, description="genres no longer wanted (no more X, not X anymore)")
    items_drop: list[int] = Field(default_factory=list, description="liked items to forget, without disliking them")
    clear: list[Kind] = Field(default_factory=list, description="constraints lifted: any year, any genre")
    unfilterable: list[Unfilterable] = Field(default_factory=list, description="asked, but not in the data")
    people: list[str] = Field(default_factory=list, description="actors' and directors' names said, as written "
                              "('Tom Hanks'); never title words or free text")
    tone: list[str] = Field(default_factory=list, description="tones wanted, names from the tone table "
                            "('feel-good', 'light', 'intense'): soft preferences, not filters")
    tone_none: list[str] = Field(default_factory=list, description="tones not wanted ('not sappy', 'nothing too dark')")
    seen_items: list[int] = Field(default_factory=list, description="films the person says they have seen: never "
                                  "shown again; taste evidence unless said negatively")
    seen_shown: list[int] = Field(default_factory=list, description="0-based positions in the last list shown, seen")
    question: Question | None = Field(None, description="what is asked about ``ask_about`` (intent ask_item)")
    anything: bool = Field(False, description="the choice is left to us ('surprise me', 'you pick'): a list, not a question")
    warnings: list[str] = Field(default_factory=list, description="what could not be honoured, told to the user")

    @property
    def has_signal(self) -> bool:
        """Anything to recommend from (besides memory and history, which the graph adds)."""
        return bool(
            self.liked_items or self.constraints.says_what_is_wanted or self.vibe.strip() or self.unknown_liked
            or self.shown_liked or self.relative_year
        )
