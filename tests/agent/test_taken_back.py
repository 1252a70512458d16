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

