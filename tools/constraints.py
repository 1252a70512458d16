"""What a person asked of the films, in one model from the understander's output to the SQL.

``Constraints`` is filled by the understander (``agent.request.Request``), merged into the session
(``agent.state.SessionPrefs.apply``), taken as an LLM tool's arguments (``agent.registry``), turned
into the catalog's query by ``to_filter`` and into the reply's words by ``describe``. A new kind
of constraint is one field here (with its ``KINDS`` row, ``to_filter`` and ``describe`` lines),
one ``ItemFilter`` field with its SQL, and the understander's reading rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel, Field, field_validator

from tools.catalog import ItemFilter

Popularity = Literal["popular", "obscure"]
Kind = Literal["genres", "years", "popularity"]  # what a person lifts ("any year") or we offer to drop


@dataclass(frozen=True)
class KindSpec:
    fields: tuple[str, ...]  # the Constraints fields of this kind
    name: str  # "Without the {name} limit, ..."
    lift: str  # what the person says to drop it
    offered: str  # "I can filter by {offered}, ..."


KINDS: dict[Kind, KindSpec] = {
    "genres": KindSpec(("genres", "genres_none"), "genre", "any genre", "genre"),
    "years": KindSpec(("year_min", "year_max"), "year", "any year", "years"),
    "popularity": KindSpec(("popularity",), "popularity", "popular or not", "popularity"),
}


def filterable() -> str:
    """What the catalog can filter by, in words: 'genre, years and popularity'."""
    said = [k.offered for k in KINDS.values()]
    return " and ".join([", ".join(said[:-1]), said[-1]]) if len(said) > 1 else said[0]


class PopularityCutoffs(Protocol):
    """Where "popular" starts and "lesser-known" ends (``tools.recommend.Recommender`` holds them)."""

    popular_min_: int
    obscure_max_: int


class Constraints(BaseModel):
    """Hard constraints on the films; every field optional. Genres are catalog genre names."""

    model_config = {"extra": "forbid"}

    genres: list[str] = Field(default_factory=list, description="any of these genres")
    genres_none: list[str] = Field(default_factory=list, description="none of these genres")
    year_min: int | None = None
    year_max: int | None = None
    popularity: Popularity | None = None

    @field_validator("year_min", "year_max")
    @classmethod
    def _plausible_year(cls, v: int | None) -> int | None:
        if v is not None and not 1800 <= v <= 2100:
            raise ValueError(f"year {v} is not plausible")
        return v

    @property
    def excluded_genres(self) -> list[str]:
        """``genres_none`` less the genres also wanted (wanting one wins)."""
        return [g for g in self.genres_none if g not in self.genres]

    @property
    def says_what_is_wanted(self) -> bool:
        """Whether these narrow to something wanted (excluded genres alone do not)."""
        return any(getattr(self, f) not in (None, []) for f in Constraints.model_fields if f != "genres_none")

    def constrains(self, kind: Kind) -> bool:
        return any(getattr(self, f) not in (None, []) for f in KINDS[kind].fields)

    def lifted(self, *kinds: Kind) -> Constraints:
        """These constraints without the given kinds ("any year")."""
        return self.model_copy(update={f: Constraints.model_fields[f].get_default(call_default_factory=True)
                                       for k in kinds for f in KINDS[k].fields})

    def within(self, person: Constraints) -> Constraints:
        """These constraints (a tool's arguments) under the person's own: what they said plainly wins.

        Wanted genres: the person's when they named any (adding one would widen "any of"), else
        these, less the person's excluded ones. Excluded genres: both, except a genre wanted. Every
        other field: the person's where they set it, else this one's."""
        wanted = person.genres or [g for g in self.genres if g not in person.excluded_genres]
        merged = {f: getattr(person, f) if getattr(person, f) is not None else getattr(self, f)
                  for f in Constraints.model_fields if f not in ("genres", "genres_none")}
        return Constraints(genres=wanted, **merged, genres_none=[
            g for g in dict.fromkeys(person.excluded_genres + self.genres_none) if g not in wanted])

    def to_filter(self, cutoffs: PopularityCutoffs, exclude: Iterable[int] = ()) -> ItemFilter:
        """The catalog's query for these constraints, with the items in ``exclude`` left out."""
        flt = ItemFilter(genres_any=list(self.genres), genres_none=self.excluded_genres, year_min=self.year_min,
                         year_max=self.year_max, exclude=sorted(set(exclude)))
        if self.popularity == "popular":
            flt.min_popularity = cutoffs.popular_min_
        elif self.popularity == "obscure":
            flt.max_popularity = cutoffs.obscure_max_
        return flt

    def describe(self, every_genre: bool = False) -> str:
        """In words: 'Comedy or Horror, without Drama, from 1990-1999, popular' (``every_genre``:
        the list has every genre asked, 'Comedy and Horror')."""
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
        return ", ".join(parts)
