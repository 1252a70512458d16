"""How long-term memory shapes a turn: which remembered likes count now, the share remembered genre
and era tastes get, which notes join the query, and what a turn leaves in memory."""

from __future__ import annotations

from agent.request import Request
from agent.state import Applied, SessionPrefs
from agent.vocabulary import (
    DURABLE_AGAINST,
    DURABLE_FOR,
    FOR_THE_MOMENT,
    LASTING_AGAINST,
    MARKER_WORDS,
    MIN_NOTE_WORDS,
)
from memory.preferences import UserProfile
from tools.catalog import Catalog, ItemFilter
from tools.retrievers import Candidate

# Memory as soft signals. A remembered like at least this close to the message counts as if said
# now (weight of a session like); the others join the long-term history. A remembered genre or era
# earns matching films a share of the list: AFFINITY_SHARE x its relevance (at least AFFINITY_FLOOR:
# a taste stated as durable always counts a little), at most half. A note this close adds its words to the query.
LIKE_RELEVANT = 0.5
AFFINITY_SHARE = 1.0
AFFINITY_FLOOR = 0.3
NOTE_RELEVANT = 0.45
# Remembered likes fade once the session has this many liked or named films of its own (validation,
# docs/notes/issue12.md: dropping them then won more conversations than keeping them in the history).
FADE_AFTER_LIKES = 1


def remembered_films(session: SessionPrefs, profile: UserProfile) -> tuple[list[int], list[int]]:
    """Remembered films not said this session, as evidence of taste: (strong, weak). Strong: the
    likes close to the message (they count as if said now). Weak, joining the long-term history:
    the films remembered as watched and not liked first, then the other likes, least relevant first
    (the end of a history weighs most in sequence models).

    A film a person watched and did not like is still evidence for the collaborative model, which
    learned who *watched* what, not who liked it: "X was a letdown" places them among X's viewers
    (validation, docs/notes/issue23.md). It is never shown, never counted as a like, never a reason.

    None once the session has liked or named a film of its own: from then on what the person says
    now decides, and an old favourite only pulls the list away from it (they stay excluded from the
    lists, and remembered dislikes and genre tastes still count)."""
    if len(session.liked_items) >= FADE_AFTER_LIKES:
        return [], []
    rel = profile.relevance
    likes = sorted((i for i in profile.liked_items if i not in session.liked_items),
                   key=lambda i: rel.get(f"item:{i}", 0.0))
    strong = [i for i in likes if rel.get(f"item:{i}", 0.0) >= LIKE_RELEVANT]
    watched = [i for i in profile.disliked_items if i not in session.disliked_items]
    return strong, watched + [i for i in likes if i not in strong]


def taste_filters(flt: ItemFilter, session: SessionPrefs, profile: UserProfile) -> list[ItemFilter]:
    """``flt`` narrowed to each remembered genre or era the session did not narrow itself: their
    best films join the pool (``Recommender.recommend``'s ``also``), so the affinity boost in
    ``retrieve`` has them to move up (the main pool may hold few of them)."""
    narrowed = []
    if profile.genres_liked and not session.constraints.genres:
        narrowed.append(flt.model_copy(update={"genres_any": profile.genres_liked}))
    if session.constraints.year_min is None and session.constraints.year_max is None:
        narrowed += [flt.model_copy(update={"year_min": max(flt.year_min or 0, e), "year_max": e + 9})
                     for e in profile.eras_liked]
    return narrowed


def relevant_notes(profile: UserProfile) -> list[str]:
    rel = profile.relevance
    return [n.split(" ", 1)[1] for n in profile.notes
            if n.startswith("loves ") and rel.get(f"note:{' '.join(n.casefold().split())}", 0.0) >= NOTE_RELEVANT]


def affinity(items: list, profile: UserProfile) -> list[float]:
    """Per item, the relevance of the remembered genre or era tastes it matches (0 when none)."""
    rel = profile.relevance
    genres = {g: max(rel.get(f"genre:{g.casefold()}", 0.0), AFFINITY_FLOOR) for g in profile.genres_liked}
    eras = {e: max(rel.get(f"era:{e}", 0.0), AFFINITY_FLOOR) for e in profile.eras_liked}
    if not genres and not eras:
        return [0.0] * len(items)
    out = []
    for it in items:
        matched = [genres[g] for g in it.genres if g in genres]
        if it.year and it.year // 10 * 10 in eras:
            matched.append(eras[it.year // 10 * 10])
        out.append(max(matched, default=0.0))
    return out


def make_room(ranked: list[Candidate], boost: list[float], k: int, keep: set[int]) -> list[Candidate]:
    """Up to ``k x AFFINITY_SHARE x relevance`` (at most half) of the first ``k`` go to the best films
    matching a remembered taste; the rest keep their order. Blend-preferred films are not displaced."""
    matched = [c.item_id for c, b in zip(ranked, boost, strict=True) if b > 0 and c.item_id not in keep]
    need = min(len(matched), round(k * min(0.5, AFFINITY_SHARE * max(boost))))
    chosen, top, rest, others = set(matched[:need]), [], [], 0
    for c in ranked:
        if c.item_id in chosen:
            top.append(c)
        elif others < k - need:
            top.append(c)
            others += 1
        else:
            rest.append(c)
    return top + rest


def turn_records(req: Request, applied: Applied, message: str, user: str, sid: str | None, profile: UserProfile,
            catalog: Catalog) -> list:
    """The records a turn leaves in memory (see ``agent.nodes.remember`` for the rules)."""
    from memory import MemoryRecord

    text = message.lower()
    against = bool(LASTING_AGAINST.search(text)) or bool(DURABLE_AGAINST.search(text) and not FOR_THE_MOMENT.search(text))
    for_ = bool(DURABLE_FOR.search(text))
    named = set(req.disliked_items)
    records = [MemoryRecord(user_id=user, kind="like", item_id=item.item_id, text=f"likes {item.label}", session_id=sid)
               for item in catalog.get(applied.liked)]
    for item in catalog.get(applied.disliked):
        critique_before = profile.critiques.get(f"item:{item.item_id}") not in (None, sid)
        durable = item.item_id in named or against or critique_before
        records.append(MemoryRecord(user_id=user, kind="dislike" if durable else "critique", item_id=item.item_id,
                                    text=f"dislikes {item.label}" if durable else f"passed on {item.label} in one session",
                                    session_id=sid))
    for g in req.constraints.genres_none:
        key = f"genre:{g.casefold()}"
        critique_before = profile.critiques.get(key) not in (None, sid)
        if against or critique_before:
            records.append(MemoryRecord(user_id=user, kind="genre_dislike", genre=g, text=f"dislikes {g} films",
                                        session_id=sid))
        elif g not in profile.genres_disliked:  # a remembered love of it is taken back too (same key)
            records.append(MemoryRecord(user_id=user, kind="critique", genre=g,
                                        text=f"wanted less {g} in one session", session_id=sid))
    for g in req.genres_drop:  # "no more westerns": a remembered love of the genre no longer holds
        if g in profile.genres_liked:
            records.append(MemoryRecord(user_id=user, kind="critique", genre=g,
                                        text=f"took back liking {g} films", session_id=sid))
    if for_ and not against:
        records += [MemoryRecord(user_id=user, kind="genre_like", genre=g, text=f"loves {g} films", session_id=sid)
                    for g in req.constraints.genres]
        records += [MemoryRecord(user_id=user, kind="era_like", era=d, text=f"loves films from the {d}s",
                                 session_id=sid) for d in decades(req.constraints.year_min, req.constraints.year_max)]
    note = " ".join(MARKER_WORDS.sub(" ", req.vibe).split())
    if (for_ or against) and len(note.split()) >= MIN_NOTE_WORDS:
        records.append(MemoryRecord(user_id=user, kind="note", text=f"{'avoids' if against else 'loves'} {note}",
                                    session_id=sid))
    return records


def decades(lo: int | None, hi: int | None) -> list[int]:
    """The decades a stated range covers, when it is about one or two decades ("I love 70s films")."""
    if lo is None or hi is None or hi - lo > 19:
        return []
    return list(range(lo // 10 * 10, hi // 10 * 10 + 1, 10))
