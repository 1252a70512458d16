"""Ablations on validation targets: one part of the agent swapped in memory, the rest of the build
as it is, the same simulated users as ``convrec eval sim``. Choices are made here, never on test.

    python -m evals.ablate --simulator heldout --item-text knowledge --json reports/ablate/know.json
    python -m evals.ablate --simulator heldout --json reports/ablate/base.json --against reports/ablate/know.json

``--item-text`` rebuilds the item vectors from other texts: ``knowledge`` is the text of ed85b73
to e850642 (title, year, genres, then "Directed by ... Rated ... Contemporary Fiction, Based on
Book"), ``plain`` is title, year and genres (what ``tools.data.item_text`` builds now, so it equals
the build's own vectors). ``--tone-weight`` sets the tone prior (``tools.recommend.TONE_WEIGHT``).
``--against`` prints each system's paired 95% interval against an earlier run's JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import tools.recommend
from evals.runner import SimSettings, run_simulation
from evals.stats import fmt, paired
from tools.artifacts import Artifacts
from tools.config import Config
from tools.data import item_text, load_dataset
from tools.text import TextEncoder


def knowledge_text(film) -> str:
    """An item's embedded text as ed85b73 built it: the film knowledge after title, year and genres."""
    parts = [item_text(film.title, film.year, film.genres)]
    if film.director:
        parts.append(f"Directed by {film.director}.")
    if film.mpaa:
        parts.append(f"Rated {film.mpaa}.")
    if film.creative_type or film.source:
        parts.append(", ".join(x for x in (film.creative_type, film.source) if x) + ".")
    return " ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--simulator", default="template", choices=["template", "heldout"])
    ap.add_argument("--protocol", default="standard")
    ap.add_argument("--users", type=int, default=0, help="0 = all")
    ap.add_argument("--systems", default="agent")
    ap.add_argument("--item-text", choices=["build", "plain", "knowledge"], default="build")
    ap.add_argument("--tone-weight", type=float, default=None)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--against", type=Path, help="an earlier run's JSON: paired intervals against it")
    args = ap.parse_args()

    config = Config()
    art = Artifacts.load(config.artifacts_dir, config)
    if args.item_text != "build":
        items = load_dataset(config.dataset, config.home).items
        text = knowledge_text if args.item_text == "knowledge" else lambda f: item_text(f.title, f.year, f.genres)
        art.item_vectors = TextEncoder().encode([text(f) for f in items.itertuples()])
    if args.tone_weight is not None:
        tools.recommend.TONE_WEIGHT = args.tone_weight  # read at each call
    systems = args.systems.split(",")
    settings = SimSettings(users=args.users, max_turns=5, systems=systems, protocol=args.protocol,
                           simulator=args.simulator, seed=0, target="valid")
    _, convs = run_simulation(settings, config, progress=True, art=art)
    per_user = {s: [float(c.success_turn is not None) for c in convs if c.system == s] for s in systems}
    out = {"settings": vars(args) | {"json": str(args.json), "against": str(args.against)},
           "success@5": {s: round(float(np.mean(v)), 4) for s, v in per_user.items()}, "per_user": per_user}
    print(json.dumps(out["success@5"]))
    if args.against:
        before = json.loads(args.against.read_text())["per_user"]
        for s in systems:
            print(f"{s}: this - {args.against.name} success@5 {fmt(paired(per_user[s], before[s]))}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out))


if __name__ == "__main__":
    main()
