"""Where a taste taken back still comes back: counts of shapes, never the messages (issue 23).

Runs the ``stale`` protocol for the default agent and, for the conversations whose memory still
holds the genre as loved when the scored session opens, counts how session 2's messages were read:
the genre wanted, excluded or withdrawn; the length of the genre word; tokens before it; the
negative cues after it, how far and whether in its clause. It also counts the stale genre of every
conversation. It prints counts only, so it can be run against the held-out simulated user without
reading its phrasings (which stay unread: it is the yardstick).

    python -m evals.stale_shapes --simulator heldout --users 943 --target valid

To count with an older understander, run this file with that tree first on the path:
``cd OLD && PYTHONPATH=OLD python /path/to/evals/stale_shapes.py --simulator heldout``.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import tempfile
from collections import Counter
from pathlib import Path

from agent.understand import OfflineUnderstander, _MessageParse
from evals.runner import SimSettings, _Worker, converse, select_personas
from tools.config import Config

TOKEN = re.compile(r"[a-z0-9]+")


def shapes(parse: _MessageParse, genre: str) -> Counter:
    """The shape of one message's reading of ``genre`` (a catalog genre name), as counts."""
    out: Counter = Counter()
    parse.run()
    hits = [(s, e) for s, e, gs, _ in parse.genre_hits if genre in {parse.und.genres_.get(g) for g in gs}]
    if not hits:
        out["genre not named"] += 1
    for s, e in hits:
        low = parse.low
        out[f"genre word length {e - s}"] += 1
        out[f"tokens before the genre {len(TOKEN.findall(low[:s]))}"] += 1
        stance = parse._stance(s)
        out[f"cue before it in its clause: {None if stance is None else stance.kind}"] += 1
        after = [c for c in parse.cues if c.polarity == -1 and c.start >= e]
        out[f"negative cues after it {len(after)}"] += 1
        for c in after[:1]:
            out[f"tokens to the first negative cue after it {len(TOKEN.findall(low[e:c.start]))}"] += 1
            out[f"that cue in the genre's clause: {parse._clause_start(c.start) == parse._clause_start(s)}"] += 1
        out[f"message tokens {len(TOKEN.findall(low))}"] += 1
        out[f"sentences {len(re.findall(r'[.!?;]', low.rstrip('.!?; '))) + 1}"] += 1
    wanted, excluded, dropped, _ = parse._genre_sets()
    out["read as: " + ("+".join(k for k, d in (("wanted", wanted), ("excluded", excluded), ("withdrawn", dropped))
                                if genre in d) or "nothing")] += 1
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--simulator", default="heldout")
    ap.add_argument("--users", type=int, default=943)
    ap.add_argument("--target", default="valid", choices=["valid", "test"])
    args = ap.parse_args(argv)
    logging.disable(logging.WARNING)
    config = Config()
    settings = SimSettings(users=args.users, target=args.target, simulator=args.simulator, protocol="stale",
                           systems=["agent"])
    worker = _Worker(config, Path(tempfile.mkdtemp()))
    rec = worker.rec_for("agent", args.target)
    und = OfflineUnderstander(worker.art.catalog)
    said: list[tuple[str | None, str]] = []
    chat = rec.chat

    def listening(user, message, session_id=None, **kw):
        said.append((session_id, message))
        return chat(user, message, session_id=session_id, **kw)

    rec.chat = listening
    by_genre, back_by_genre, counts = Counter(), Counter(), Counter()
    for persona in select_personas(worker.art, settings):
        said.clear()
        conv = converse(rec, persona, settings, config, worker.items)
        by_genre[conv.stale] += 1
        if not conv.stale_back:
            continue
        back_by_genre[conv.stale] += 1
        for session, message in said:
            if session and session.endswith("-s2"):
                counts.update(shapes(_MessageParse(und, message, []), conv.stale))
    report = {"simulator": args.simulator, "target": args.target, "conversations": sum(by_genre.values()),
              "still_loved": sum(back_by_genre.values()),
              "by_genre": {g: {"conversations": n, "still_loved": back_by_genre[g]} for g, n in by_genre.most_common()},
              "session_2_shapes_where_still_loved": dict(sorted(counts.items()))}
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
