"""Ways people take a genre taste back, in our own words (issue 23's stale taste; thirteenth session).

`devset/taken_back.jsonl`: one phrasing a line, ``{g}`` standing for a genre word (a plural, or with
``singular`` a mass noun such as "drama"), in the batch it was written in (each batch before the fix
it led to; a later batch after the earlier fix, so it measures how far that fix reached); ``left`` marks the ones not read as a taste taken back at the
final code: said the other way too ("I used to love westerns, any good old ones?"), or given up for
precision after a review showed the rule that read them misread wanted genres ("comedy? nothing
beats it").

    python -m tests.agent.taken_back          # failures per batch (a phrasing fails when any of the
                                              # genres is read as wanted, or not read as unwanted)

To count against an older tree, run this file with that tree first on the path:
``cd OLD && PYTHONPATH=OLD python /path/to/tests/agent/taken_back.py``.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

GENRES = {"westerns": "Western", "horror": "Horror", "musicals": "Musical", "war movies": "War",
          "romcoms": "Romance", "sci-fi": "Sci-Fi", "thrillers": "Thriller"}
# Rows marked ``singular`` take a genre as a mass noun, with a singular verb ("drama's not for me")
SINGULAR = {"drama": "Drama", "comedy": "Comedy", "horror": "Horror", "sci-fi": "Sci-Fi", "romance": "Romance",
            "animation": "Animation"}
DATA = Path(__file__).parent / "devset" / "taken_back.jsonl"


def rows() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]


def taken_back(understander, template: str, singular: bool = False) -> list[str]:
    """The genres a phrasing fails to take back: read as wanted, or neither excluded nor withdrawn."""
    failed = []
    for word, genre in (SINGULAR if singular else GENRES).items():
        req = understander.parse(template.format(g=word))
        gone = genre in req.constraints.genres_none or genre in req.genres_drop
        if genre in req.constraints.genres or not gone:
            failed.append(genre)
    return failed


def main() -> None:
    from agent.understand import OfflineUnderstander
    from tests.agent.devset import build_catalog

    und = OfflineUnderstander(build_catalog(Path(tempfile.mkdtemp())))
    total, failed = Counter(), Counter()
    for row in rows():
        total[row["batch"]] += 1
        failed[row["batch"]] += bool(taken_back(und, row["message"], row.get("singular", False)))
    for batch in sorted(total):
        print(f"batch {batch}: {failed[batch]} of {total[batch]} fail")


if __name__ == "__main__":
    main()
