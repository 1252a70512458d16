"""The real full ml-100k catalog and the offline understander over it, shared by the
understander's tests (test_understand.py, test_devset.py, test_session.py)."""

from __future__ import annotations

import numpy as np
import pytest

from agent.understand import OfflineUnderstander
from tools.catalog import Catalog


@pytest.fixture(scope="session")
def catalog(ml100k, tmp_path_factory):
    pop = np.arange(len(ml100k.items))[::-1]  # any popularity will do for reading messages
    return Catalog.create(tmp_path_factory.mktemp("understand") / "catalog.sqlite", ml100k.items, pop)


@pytest.fixture(scope="session")
def understander(catalog):
    return OfflineUnderstander(catalog)
