"""What a person asked of the films, in one model from the understander's output to the SQL.

``Constraints`` is filled by the understander (``agent.request.Request``), merged into the session
(``agent.state.SessionPrefs.apply``), taken as an LLM tool's arguments (``agent.registry``), turned
into the catalog's query by ``to_filter`` and into the reply's words by ``describe``. A new kind
of constraint touches four files: one field here (with its ``KINDS`` row, ``to_filter`` and
``describe`` lines); its ``ItemFilter`` field and SQL in ``tools/catalog.py`` (a plain bound is a
``_BOUNDS`` row), with the film-knowledge column there (``FILM_FIELDS``, ``Item``) when the kind
filters on new knowledge; that column's name in the source data (``tools/metadata.py``); and its
words, a ``KNOWLEDGE`` row in ``agent/vocabulary.py`` when it reads like a rating, a length or a
flag (a new way of reading is a reader in ``agent/aspects.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel, Field, field_validator

from tools.catalog import ItemFilter

Popularity = Literal["popular", "obscure"]
# what a person lifts ("any year") or we offer to drop
Kind = Literal["genres", "years", "popularity", "audience", "people", "rating", "runtime", "acclaim"]
# what a film for children is not, besides rated R or NC-17 (unrated films of these genres are out too)
ADULT_GENRES = ("Horror", "Crime", "Thriller", "Film-Noir")
ADULT_RATINGS = ("R", "NC-17")


@dataclass(frozen=True)
class KindSpec:
    fields: tuple[str, ...]  # the Constraints fields of this kind
    name: str  # "Without the {name} limit, ..."
    lift: str  # what the person says to drop it
    offered: str  # "I can filter by {offered}, ..."
    knows: tuple[str, ...] = ()  # the film-knowledge fields it filters on: only films with one can match


KINDS: dict[Kind, KindSpec] = {
    "genres": KindSpec(("genres", "genres_none"), "genre", "any genre", "genre"),
    "years": KindSpec(("year_min", "year_max"), "year", "any year", "years"),
    "popularity": KindSpec(("popularity",), "popularity", "popular or not", "popularity"),
    "audience": KindSpec(("audience",), "children's", "not just for children", "who it is for (children)"),
    "people": KindSpec(("directors",), "director", "any director", "director", ("director",)),
    "rating": KindSpec(("max_rating",), "rating", "any rating", "MPAA rating", ("mpaa",)),
    "runtime": KindSpec(("max_runtime",), "length", "any length", "running time", ("runtime",)),
    "acclaim": KindSpec(("acclaimed",), "reviews", "acclaimed or not", "critical acclaim", ("imdb_rating", "rt_rating")),
}


def filterable() -> str:
    """What the catalog can filter by, in words: 'genre, years, popularity, ... and critical acclaim'."""
    said = [k.offered for k in KINDS.values()]
    return " and ".join([", ".join(said[:-1]), said[-1]]) if len(said) > 1 else said[0]


class PopularityCutoffs(Protocol):
    """Where the films "popular" and "lesser-known" allow end (``tools.recommend.Recommender`` holds
    them: the words rule out only the plainly other films and rank the rest, see there)."""

    popular_floor_: int
    obscure_ceiling_: int


class Constraints(BaseModel):
    """Hard constraints on the films; every field optional. Genres are catalog genre names."""

    model_config = {"extra": "forbid"}

    genres: list[str] = Field(default_factory=list, description="any of these genres")
    genres_none: list[str] = Field(default_factory=list, description="none of these genres")
    year_min: int | None = None
    year_max: int | None = None
    popularity: Popularity | None = None
    audience: Literal["children"] | None = Field(None, description="who the films are for")
    directors: list[str] = Field(default_factory=list, description="directed by any of these (names as in the catalog)")
    max_rating: Literal["G", "PG", "PG-13", "R"] | None = Field(None, description="this MPAA rating or milder")
    max_runtime: int | None = Field(None, ge=1, le=600, description="minutes at most")
    acclaimed: bool | None = Field(None, description="critically acclaimed films only")

    @field_validator("year_min", "year_max")
    @classmethod
    def _plausible_year(cls, v: int | None) -> int | None:
        if v is not None and not 1800 <= v <= 2100:
            raise ValueError(f"year {v} is not plausible")
        return v

    @field_validator("acclaimed")
    @classmethod
    def _acclaim_or_nothing(cls, v: bool | None) -> bool | None:
        return v or None  # "acclaimed or not" asks nothing: False is None, so there is one way to say it

    @property
    def given(self) -> set[str]:
        """The fields given a value (an empty list says nothing)."""
        return {f for f in Constraints.model_fields if getattr(self, f) not in (None, [])}

    @property
    def excluded_genres(self) -> list[str]:
        """``genres_none`` less the genres also wanted (wanting one wins)."""
        return [g for g in self.genres_none if g not in self.genres]

    @property
    def says_what_is_wanted(self) -> bool:
        """Whether these narrow to something wanted (excluded genres alone do not)."""
        return bool(self.given - {"genres_none"})

    def constrains(self, kind: Kind) -> bool:
        return bool(self.given & set(KINDS[kind].fields))

    def lifted(self, *kinds: Kind) -> Constraints:
        """These constraints without the given kinds ("any year")."""
        return self.model_copy(update={f: Constraints.model_fields[f].get_default(call_default_factory=True)
                                       for k in kinds for f in KINDS[k].fields})

    def within(self, person: Constraints) -> Constraints:
        """These constraints (a tool's arguments) under the person's own: what they said plainly wins.

        Wanted genres: the person's when they named any (adding one would widen "any of"), else
        these, less the person's excluded ones. Excluded genres: both, except a genre wanted. Every
        other field: the person's where they gave it (directors: named any), else this one's."""
        wanted = person.genres or [g for g in self.genres if g not in person.excluded_genres]
        merged = {f: getattr(person if f in person.given else self, f)
                  for f in Constraints.model_fields if f not in ("genres", "genres_none")}
        return Constraints(genres=wanted, **merged, genres_none=[
            g for g in dict.fromkeys(person.excluded_genres + self.genres_none) if g not in wanted])

    def to_filter(self, cutoffs: PopularityCutoffs, exclude: Iterable[int] = ()) -> ItemFilter:
        """The catalog's query for these constraints, with the items in ``exclude`` left out. For
        children: no ``ADULT_GENRES`` (even when asked for) and nothing rated R or NC-17."""
        children = self.audience == "children"
        flt = ItemFilter(genres_any=list(self.genres), year_min=self.year_min, year_max=self.year_max,
                         genres_none=list(dict.fromkeys(self.excluded_genres + list(ADULT_GENRES if children else ()))),
                         ratings_none=list(ADULT_RATINGS if children else ()), directors_any=list(self.directors),
                         max_rating=self.max_rating, max_runtime=self.max_runtime, acclaimed=bool(self.acclaimed),
                         exclude=sorted(set(exclude)))
        if self.popularity == "popular":
            flt.min_popularity = cutoffs.popular_floor_
        elif self.popularity == "obscure":
            flt.max_popularity = cutoffs.obscure_ceiling_
        return flt

    def describe(self, every_genre: bool = False) -> str:
        """In words: 'Comedy or Horror, without Drama, from 1990-1999, popular, for children, directed
        by Steven Spielberg, rated PG or milder, under 120 minutes, critically acclaimed'
        (``every_genre``: the list has every genre asked, 'Comedy and Horror')."""
        parts = []
        if self.genres:
            parts.append((" and " if every_genre else " or ").join(self.genres))
        if self.excluded_genres:
            parts.append("without " + ", ".join(self.excluded_genres))
        if self.year_min and self.year_max:
            parts.append(f"from {self.year_min}" if self.year_min == self.year_max else f"from {self.year_min}-{self.year_max}")
        elif self.year_min:
            parts.append(f"from {self.year_min} on")
        elif self.year_max:
            parts.append(f"up to {self.year_max}")
        if self.popularity:
            parts.append("popular" if self.popularity == "popular" else "lesser-known")
        if self.audience == "children":
            parts.append("for children")
        if self.directors:
            parts.append("directed by " + " or ".join(self.directors))
        if self.max_rating:
            parts.append(f"rated {self.max_rating}" + ("" if self.max_rating == "G" else " or milder"))
        if self.max_runtime:
            parts.append(f"under {self.max_runtime} minutes")
        if self.acclaimed:
            parts.append("critically acclaimed")
        return ", ".join(parts)
