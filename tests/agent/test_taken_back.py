"""Every phrasing of `devset/taken_back.jsonl` takes its genre back, for 7 genres (6 for the mass nouns of ``singular`` rows), except the ones
marked ``left`` (said both ways by people, or given up for precision), which are not: the test fails
when either side moves, so a change that reads more of them updates the file and says so."""

from __future__ import annotations

import pytest

from tests.agent.taken_back import rows, taken_back


@pytest.mark.parametrize("row", rows(), ids=lambda r: r["message"][:40])
def test_a_taste_taken_back_is_read_so(understander, row):
    failed = taken_back(understander, row["message"], row.get("singular", False))
    assert (failed != []) is row["left"], failed


def test_the_stale_shapes_count_how_a_message_was_read(understander):
    """`python -m evals.stale_shapes` counts shapes of readings, never the words (issue 23)."""
    from agent.understand import _MessageParse
    from evals.stale_shapes import shapes

    back = shapes(_MessageParse(understander, "I loved westerns for years, but now I can't stand them", []), "Western")
    assert back["read as: excluded"] == 1 and back["genre word length 8"] == 1
    assert back["tokens before the genre 2"] == 1 and back["negative cues after it 1"] == 1
    assert back["that cue in the genre's clause: False"] == 1 and back["tokens to the first negative cue after it 5"] == 1
    wanted = shapes(_MessageParse(understander, "westerns please", []), "Western")
    assert wanted["read as: wanted"] == 1 and wanted["negative cues after it 0"] == 1
    assert shapes(_MessageParse(understander, "a comedy please", []), "Western")["genre not named"] == 1
