"""Ask or recommend (issue 23): one question beside the list, when the evidence is thin.

A question is worth what its answer would tell us about the films still in the running. For a
question whose answers split the films ("older or newer?", "a big hit or a hidden gem?",
"lighter or darker?", "which genre?"), that is the entropy, in bits, of the candidates' share
(weighted by rank, as the list ranks them) over the answers' cells: a question whose answers all
point at the same films tells us nothing, one that splits them evenly tells us most. "A film you
liked lately?" splits nothing on its face; its answer brings the collaborative signal, which a
stranger's turn lacks entirely, so it is worth a fixed ``liked_bits`` while no film was named.

The policy (``QuestionPolicy``) says when the evidence is thin (no history, no film named, picked
or remembered), how many bits a question must be worth, and in which turns to ask. Each question is asked at most
once a session. The question goes with a list, never instead of one: the list shown may already
hold the film, and the person can answer or ignore it.

Tuned on validation targets with the development simulated user, cold-user protocol (the held-out
user is never tuned on; docs/notes/issue23.md): asking "a film you liked lately?" first lost
-0.048 success@5 [-0.065, -0.032] (its answer takes the place of a fact the person would have
volunteered, a second genre that filters hard), so ``liked_bits`` is 0; asking only a question
worth >= 1.5 bits ("older or newer?" over a list spread across decades, mostly) won: success by
turn 2 +0.007 [+0.001, +0.015] and turn 3 +0.006 [+0.001, +0.013], success@5 +0.001 [+0.000,
+0.003], never worse at any turn. So it is on in the default agent (``Config.ask_questions``);
``agent-no-ask`` is the ablation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from tools.catalog import Item

# Genres people call light or dark; a film with neither is "in between".
LIGHT = frozenset({"Comedy", "Children's", "Animation", "Musical", "Romance"})
DARK = frozenset({"Horror", "Thriller", "Crime", "Film-Noir", "War"})


class QuestionPolicy(BaseModel):
    """When to ask, and how much a question must be worth (tuned on validation)."""

    enabled: bool = Field(False, description="ask at all (Config.ask_questions: on in the default agent, chosen on "
                                            "validation)")
    last_turn: int = Field(3, ge=1, description="ask only in this many first turns of a session")
    min_bits: float = Field(1.5, ge=0, description="a question's worth, in bits, needed to ask it")
    liked_bits: float = Field(0.0, ge=0, description="what 'a film you liked lately?' is worth while none was named "
                                                    "(0: never asked; see the module doc)")
    top: int = Field(50, ge=2, description="the candidates a question's split is measured over")


@dataclass(frozen=True)
class Question:
    kind: str
    text: str
    cells: Callable[[Item, int], str | None] | None  # an item's answer cell (None: no split; "liked")


def _era(item: Item, _: int) -> str | None:
    return None if item.year is None else str(item.year // 10 * 10)


def _fame(item: Item, popular_min: int) -> str:
    return "hit" if item.popularity >= popular_min else "other"


def _mood(item: Item, _: int) -> str:
    g = set(item.genres)
    return "light" if g & LIGHT and not g & DARK else "dark" if g & DARK and not g & LIGHT else "between"


def _genre(item: Item, _: int) -> str | None:
    return item.genres[0] if item.genres else None


QUESTIONS: tuple[Question, ...] = (
    Question("liked", "Is there a film you liked lately? Name one and I'll look for more like it.", None),
    Question("era", "Older or newer: is there an era you have in mind?", _era),
    Question("popularity", "A big hit, or more of a hidden gem?", _fame),
    Question("mood", "Lighter or darker, what are you in the mood for?", _mood),
    Question("genre", "Any kind of film in mind: a comedy, a thriller, a drama?", _genre),
)
BY_KIND = {q.kind: q for q in QUESTIONS}


def split_bits(items: Sequence[Item], cell: Callable[[Item, int], str | None], popular_min: int) -> float:
    """The entropy (bits) of the items' rank-weighted share over ``cell``'s answers."""
    mass: dict[str, float] = {}
    for rank, item in enumerate(items):
        c = cell(item, popular_min)
        if c is not None:
            mass[c] = mass.get(c, 0.0) + 1.0 / math.log2(rank + 2)
    total = sum(mass.values())
    return -sum(m / total * math.log2(m / total) for m in mass.values()) if total else 0.0


@dataclass(frozen=True)
class Situation:
    """What the turn knows, for the policy: what was said, what is known of the person."""

    turn: int
    asked_before: Sequence[str]  # kinds asked earlier this session
    named_films: bool  # a film named or picked this session, or remembered
    history: bool  # a known history
    said: frozenset[str]  # kinds the person already spoke to: "era", "popularity", "mood", "genre"


def may_ask(policy: QuestionPolicy, situation: Situation) -> bool:
    """Whether this turn may ask at all: the policy on, an early turn, and thin evidence."""
    return policy.enabled and situation.turn <= policy.last_turn and not (situation.history or situation.named_films)


def choose(policy: QuestionPolicy, situation: Situation, candidates: Sequence[Item],
           popular_min: int) -> tuple[Question, float] | None:
    """The question worth most bits, or None when the turn may not ask or none is worth asking."""
    if not may_ask(policy, situation) or not candidates:
        return None
    top = list(candidates[: policy.top])
    worth = [(policy.liked_bits if q.cells is None else split_bits(top, q.cells, popular_min), q)
             for q in QUESTIONS if q.kind not in situation.asked_before and q.kind not in situation.said]
    if not worth:
        return None
    bits, best = max(worth, key=lambda w: w[0])
    return (best, bits) if bits >= policy.min_bits else None
