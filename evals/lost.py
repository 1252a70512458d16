"""Where the agent's reading loses the target: counts per turn, never the messages (issues 21, 23).

Runs a protocol for the default agent and, after every turn, asks of the session the agent built:

- is the target still allowed by the constraints it read? If not, which kind of constraint
  (``tools.constraints.KINDS``) rules it out: the kinds whose lifting alone lets it back in, or
  "several" when no single one does; or was the target taken as seen or disliked?
- did the person state a new fact (the simulated user's own ``claims``, counted by kind only) while
  the session's reading stayed as it was (constraints, tones, films liked, disliked and seen)?
- how wide is what the agent allows against what the person's facts allow (the simulator's
  ``fits``): the ratio, in buckets.

It prints counts only, so it can be run against the held-out simulated user without reading its
phrasings, which stay unread: it is the yardstick. It says which kind of understanding costs the
most; what to fix is then written as our own phrasings (``tests/agent/devset``), never from it.

    python -m evals.lost --simulator heldout --users 943 --target valid
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from evals.runner import SimSettings, _Worker, converse, select_personas
from tools.config import Config
from tools.constraints import KINDS

RATIO_BUCKETS = (0.5, 0.9, 1.1, 2, 5, 20)


def ruled_out_by(rec, prefs, target: int) -> str | None:
    """Why the agent's reading of a session (``rec.session(...)``) rules ``target`` out: a
    constraint kind (or kinds), 'seen' or 'disliked'; None when the target is still allowed."""
    if target in prefs.seen:
        return "seen"
    if target in prefs.disliked_items:
        return "disliked"
    cons, cutoffs, catalog = prefs.constraints, rec.tools.recommender, rec.tools.catalog
    if catalog.satisfies([target], cons.to_filter(cutoffs))[0]:
        return None
    alone = [k for k in KINDS if cons.constrains(k) and catalog.satisfies([target], cons.lifted(k).to_filter(cutoffs))[0]]
    return "+".join(alone) if alone else "several"


def how_far(rec, cons, why: str, target: int) -> str:
    """How far outside the single kind that rules the target out: the years past the bound; the
    target's popularity percentile against the cut-off; the genres it lacks or has against them."""
    if why not in ("years", "popularity", "genres"):
        return why
    item = rec.tools.catalog.get([target])[0]
    if why == "years":
        off = (cons.year_min - item.year) if cons.year_min is not None and item.year < cons.year_min else \
            item.year - (cons.year_max or item.year)
        side = "before" if cons.year_min is not None and item.year < cons.year_min else "after"
        far = '1-2' if off <= 2 else '3-5' if off <= 5 else '6-10' if off <= 10 else '> 10'
        span = "" if off <= 10 else f" (the span read: {cons.year_min or '...'}-{cons.year_max or '...'})"
        return f"years: {side} the span, {far} years{span}"
    if why == "popularity":
        pop = rec.tools.recommender.popularity
        pct = int(100 * (pop < pop[rec.tools.recommender.index.to_iidx([target])[0]]).mean())
        return f"popularity: asked {cons.popularity}, the target at percentile {10 * (pct // 10)}-{10 * (pct // 10) + 9}"
    lacks = not set(item.genres) & set(cons.genres) if cons.genres else False
    has = bool(set(item.genres) & set(cons.excluded_genres))
    return f"genres: {'lacks every wanted genre' if lacks else ''}{' and ' if lacks and has else ''}{'has an excluded genre' if has else ''}"


def _reading(prefs) -> tuple:
    """What the session read, less the films shown and the free words."""
    return (prefs.constraints.model_dump_json(), tuple(prefs.tone), tuple(prefs.tone_none),
            tuple(prefs.liked_items), tuple(prefs.disliked_items), tuple(prefs.seen))


def _bucket(ratio: float) -> str:
    for edge in RATIO_BUCKETS:
        if ratio < edge:
            return f"< {edge}"
    return f">= {RATIO_BUCKETS[-1]}"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--simulator", default="heldout")
    ap.add_argument("--protocol", default="standard", choices=["standard", "cold-user"])
    ap.add_argument("--users", type=int, default=943)
    ap.add_argument("--target", default="valid", choices=["valid", "test"])
    args = ap.parse_args(argv)
    logging.disable(logging.WARNING)
    config = Config()
    settings = SimSettings(users=args.users, target=args.target, simulator=args.simulator, protocol=args.protocol,
                           systems=["agent"])
    worker = _Worker(config, Path(tempfile.mkdtemp()))
    rec = worker.rec_for("agent", args.target)
    items, chat = worker.items, rec.chat
    counts: dict[str, Counter] = {k: Counter() for k in (
        "ruled out, by turn", "ruled out by", "facts said (by kind)", "fact said, reading unchanged (by kind)",
        "allowed / fits, by bucket", "how far outside", "lost conversations: the target at the last turn")}
    now: dict = {}  # the conversation under way: its simulated user, target, claims read, last verdict, allowed per turn

    def listening(user, message, session_id=None, **kw):
        before = _reading(rec.session(user, session_id))
        reply = chat(user, message, session_id=session_id, **kw)
        after = rec.session(user, session_id)
        sim = now["sim"]
        now["why"] = why = ruled_out_by(rec, after, now["target"])
        if why is not None:
            counts["ruled out, by turn"][f"turn {after.turns}"] += 1
            counts["ruled out by"][why] += 1
            counts["how far outside"][how_far(rec, after.constraints, why, now["target"])] += 1
        for kind, _ in sim.claims[now["claims"]:]:
            counts["facts said (by kind)"][kind] += 1
            if _reading(after) == before:
                counts["fact said, reading unchanged (by kind)"][kind] += 1
        now["claims"] = len(sim.claims)
        now["allowed"].append(len(rec.tools.catalog.filter(after.constraints.to_filter(rec.tools.recommender))))
        return reply

    rec.chat = listening
    rec.listen = lambda sim: now.update(sim=sim)
    personas = select_personas(worker.art, settings)
    lost = 0
    for persona in tqdm(personas, desc="conversations"):
        now.update(target=persona.target.item_id, claims=0, why=None, allowed=[])
        conv = converse(rec, persona, settings, config, items)
        for turn, allowed in zip(conv.turns, now["allowed"], strict=True):  # consistent: the films that fit
            if turn.consistent:
                counts["allowed / fits, by bucket"][_bucket(allowed / turn.consistent)] += 1
        if conv.success_turn is None:
            lost += 1
            counts["lost conversations: the target at the last turn"][now["why"] or "allowed"] += 1
    report = {"simulator": args.simulator, "protocol": args.protocol, "target": args.target,
              "conversations": len(personas), "lost": lost, **{k: dict(sorted(v.items())) for k, v in counts.items()}}
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
