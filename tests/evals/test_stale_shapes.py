"""`python -m evals.stale_shapes` counts shapes of how a taste taken back was read, never its words
(issue 23): the counts must describe the reading."""

from __future__ import annotations

import numpy as np
import pytest

from agent.understand import OfflineUnderstander, _MessageParse
from evals.stale_shapes import shapes
from tools.catalog import Catalog


@pytest.fixture(scope="module")
def understander(ml100k, tmp_path_factory):
    pop = np.arange(len(ml100k.items))[::-1]  # any popularity will do for reading messages
    return OfflineUnderstander(Catalog.create(tmp_path_factory.mktemp("shapes") / "catalog.sqlite", ml100k.items, pop))


def test_a_taste_taken_back_later_in_its_sentence(understander):
    back = shapes(_MessageParse(understander, "I loved westerns for years, but now I can't stand them", []), "Western")
    assert back["read as: excluded"] == 1 and back["genre word length 8"] == 1
    assert back["tokens before the genre 2"] == 1 and back["negative cues after it 1"] == 1
    assert back["that cue in the genre's clause: False"] == 1
    assert back["tokens to the first negative cue after it 5"] == 1


def test_a_genre_wanted_and_a_genre_not_named(understander):
    wanted = shapes(_MessageParse(understander, "westerns please", []), "Western")
    assert wanted["read as: wanted"] == 1 and wanted["negative cues after it 0"] == 1
    assert shapes(_MessageParse(understander, "a comedy please", []), "Western")["genre not named"] == 1
