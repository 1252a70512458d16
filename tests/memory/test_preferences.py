"""PreferenceMemory against a real temporary Chroma (embedded, and a `chroma run` server)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from memory import MemoryRecord, MemoryUnavailable, PreferenceMemory, UserProfile
from tools.config import Config
from tools.text import TextEncoder

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    enc = TextEncoder()
    enc.encode_one("warm up")  # the model loads once per process
    return enc


def embedded_config(tmp_path: Path) -> Config:
    # every field that could come from CONVREC_* in the environment is pinned
    return Config(home=tmp_path, memory_dir=None, chroma_url=None)


@pytest.fixture
def mem(tmp_path: Path, encoder: TextEncoder) -> PreferenceMemory:
    return PreferenceMemory.from_config(embedded_config(tmp_path), encoder)


def like(user: str, item: int, title: str, **kw) -> MemoryRecord:
    return MemoryRecord(user_id=user, kind="like", item_id=item, text=f"likes {title}", **kw)


def dislike(user: str, item: int, title: str, **kw) -> MemoryRecord:
    return MemoryRecord(user_id=user, kind="dislike", item_id=item, text=f"dislikes {title}", **kw)


def genre(user: str, name: str, liked: bool, **kw) -> MemoryRecord:
    kind = "genre_like" if liked else "genre_dislike"
    verb = "likes" if liked else "dislikes"
    return MemoryRecord(user_id=user, kind=kind, genre=name, text=f"{verb} {name}", **kw)


def profile(mem: PreferenceMemory, user: str) -> UserProfile:
    """The profile a turn folds from its one ``read`` (``agent.nodes.recall``), relevance left out."""
    records, _ = mem.read(user, "anything")
    return UserProfile.from_records(user, records)


def closest(mem: PreferenceMemory, user: str, query: str) -> list[MemoryRecord]:
    """The user's records by their relevance to ``query`` in one ``read``, closest first."""
    records, relevance = mem.read(user, query)
    return sorted(records, key=lambda r: -relevance[r.key])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# records -------------------------------------------------------------------------------------
def test_record_roundtrip_keeps_every_field(mem):
    rec = MemoryRecord(
        user_id="ann", kind="note", text="I want something funny", session_id="s1"
    )
    stored = mem.add(rec)
    [back] = mem.all("ann")
    assert back == stored == rec
    assert back.item_id is None and back.genre is None and back.session_id == "s1"
    [liked] = mem.add_many([like("ann", 100, "Fargo (1996)")])
    assert mem.all("ann")[1] == liked and liked.item_id == 100 and liked.session_id is None


def test_created_at_survives_chroma_exactly(mem):
    # full time.time() precision: Chroma alone would give it back one ulp off
    rec = mem.add(genre("ann", "Drama", True, created_at=1764020616.2029283))
    assert mem.all("ann") == [rec]


def test_an_existing_id_cannot_be_overwritten(mem):
    first = mem.add(genre("ann", "Drama", True))
    mem.add(MemoryRecord(id=first.id, user_id="bob", kind="note", text="hijack"))
    assert mem.all("ann") == [first]
    assert mem.count("bob") == 0  # Chroma ignores an add whose id exists


def test_record_needs_its_target():
    with pytest.raises(ValueError, match="needs item_id"):
        MemoryRecord(user_id="ann", kind="like", text="likes something")
    with pytest.raises(ValueError, match="needs genre"):
        MemoryRecord(user_id="ann", kind="genre_dislike", text="dislikes a genre")


@pytest.mark.parametrize("bad", ["", "   ", "x" * 129])
def test_invalid_user_id_is_refused(mem, bad):
    with pytest.raises(ValueError, match="user_id"):
        MemoryRecord(user_id=bad, kind="note", text="hello")
    for call in (mem.all, mem.forget, mem.count, lambda u: mem.read(u, "x")):
        with pytest.raises(ValueError, match="user_id"):
            call(bad)


def test_longest_user_id_is_accepted(mem):
    uid = "u" * 128
    mem.add(genre(uid, "Drama", True))
    assert mem.count(uid) == 1


# read ----------------------------------------------------------------------------------------
def test_read_ranks_the_relevant_record_first(mem):
    mem.add_many(
        [
            like("ann", 100, "Fargo (1996)"),
            genre("ann", "Horror", False),
            like("ann", 1, "Toy Story (1995)"),
            genre("ann", "Sci-Fi", True),
            MemoryRecord(
                user_id="ann", kind="note", text="I want something funny for a family night"
            ),
        ]
    )
    assert closest(mem, "ann", "horror films")[0].text == "dislikes Horror"
    assert closest(mem, "ann", "space and aliens")[0].genre == "Sci-Fi"
    assert closest(mem, "ann", "a comedy to watch with my children")[0].kind == "note"
    records, relevance = mem.read("ann", "anything")
    assert len(records) == 5 and len(relevance) == 5 and all(0 <= v <= 1 for v in relevance.values())
    assert [r.created_at for r in records] == sorted(r.created_at for r in records)  # oldest first
    assert mem.read("nobody", "horror films") == ([], {})


# isolation -----------------------------------------------------------------------------------
def test_users_never_see_each_others_records(mem):
    # bob has many records that match the query far better than any of ann's
    mem.add_many([genre("bob", f"Horror {i}", False) for i in range(300)])
    mem.add_many([like("ann", 100, "Fargo (1996)"), like("ann", 1, "Toy Story (1995)")])
    got, relevance = mem.read("ann", "dislikes Horror")
    assert {r.item_id for r in got} == {100, 1} and set(relevance) == {"item:100", "item:1"}
    assert all(r.user_id == "ann" for r in mem.all("ann"))
    assert profile(mem, "ann") == UserProfile(user_id="ann", liked_items=[100, 1])
    assert mem.count("bob") == 300 and mem.count("ann") == 2


def test_concurrent_writers_stay_isolated(mem):
    users = [f"user{t}" for t in range(8)]
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            uid = users[t]
            for j in range(4):
                mem.add(like(uid, 1000 * t + j, f"Movie {t}-{j}"))
                assert all(r.user_id == uid for r in mem.read(uid, f"Movie {t}")[0])
            mem.add_many([genre(uid, f"Genre{t}", True), dislike(uid, 1000 * t, f"Movie {t}-0")])
        except BaseException as e:  # surfaced in the main thread below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    for t, uid in enumerate(users):
        records = mem.all(uid)  # the dislike of movie t-0 superseded its like: 5 subjects
        assert len(records) == 5 and {r.user_id for r in records} == {uid}
        prof = profile(mem, uid)
        assert prof.liked_items == [1000 * t + j for j in range(1, 4)]
        assert prof.disliked_items == [1000 * t]
        assert prof.genres_liked == [f"Genre{t}"]
        assert {r.user_id for r in mem.read(uid, "Movie")[0]} == {uid}


def test_forget_deletes_only_that_user(mem):
    mem.add_many([like("ann", 1, "Toy Story (1995)"), genre("ann", "Horror", False)])
    mem.add(like("bob", 2, "GoldenEye (1995)"))
    assert mem.forget("ann") == 2
    assert mem.all("ann") == [] and mem.count("ann") == 0
    assert profile(mem, "ann") == UserProfile(user_id="ann")
    assert mem.read("ann", "horror") == ([], {})
    assert [r.item_id for r in mem.all("bob")] == [2]
    assert mem.forget("ann") == 0


def test_delete_one_record_only_of_its_own_user(mem):
    keep, drop = mem.add_many([like("ann", 1, "Toy Story (1995)"), genre("ann", "Horror", False)])
    bobs = mem.add(like("bob", 2, "GoldenEye (1995)"))
    assert mem.delete("ann", bobs.id) is False  # another user's id: not found, not deleted
    assert mem.all("bob") == [bobs]
    assert mem.delete("ann", drop.id) is True
    assert mem.all("ann") == [keep]
    assert mem.delete("ann", drop.id) is False
    assert mem.delete("ann", "no-such-id") is False


# profile -------------------------------------------------------------------------------------
def test_profile_later_records_override_earlier_ones(mem):
    t0 = 1_700_000_000.0
    # added out of time order on purpose: the profile follows created_at, not insertion
    mem.add_many(
        [
            dislike("ann", 100, "Fargo (1996)", created_at=t0 + 5),
            like("ann", 100, "Fargo (1996)", created_at=t0 + 1),
            like("ann", 1, "Toy Story (1995)", created_at=t0 + 2),
            genre("ann", "Horror", True, created_at=t0 + 3),
            genre("ann", "horror", False, created_at=t0 + 4),
            genre("ann", "Comedy", False, created_at=t0 + 6),
            genre("ann", "Comedy", True, created_at=t0 + 7),
            MemoryRecord(user_id="ann", kind="note", text="I like old films", created_at=t0),
        ]
    )
    # one record per subject, the newest: Fargo disliked, horror disliked, comedy liked
    assert [r.created_at for r in mem.all("ann")] == [t0, t0 + 2, t0 + 4, t0 + 5, t0 + 7]
    assert profile(mem, "ann") == UserProfile(
        user_id="ann",
        liked_items=[1],
        disliked_items=[100],
        genres_liked=["Comedy"],
        genres_disliked=["horror"],
        notes=["I like old films"],
    )


# persistence ---------------------------------------------------------------------------------
def test_records_survive_a_new_memory_on_the_same_path(tmp_path, encoder):
    first = PreferenceMemory.from_config(embedded_config(tmp_path), encoder)
    first.add(genre("ann", "Horror", False))
    second = PreferenceMemory.from_config(embedded_config(tmp_path), encoder)
    assert [r.text for r in second.all("ann")] == ["dislikes Horror"]
    assert (tmp_path / "state" / "chroma").is_dir()


@pytest.mark.slow
def test_add_is_durable_when_the_process_is_killed(tmp_path, encoder):
    # a fresh process adds one record and kills itself with SIGKILL right after add returns
    script = textwrap.dedent(
        f"""
        import os, signal
        from memory import MemoryRecord, PreferenceMemory
        from tools.config import Config
        mem = PreferenceMemory.from_config(Config(home={str(tmp_path)!r}, memory_dir=None, chroma_url=None))
        mem.add(MemoryRecord(user_id="ann", kind="genre_dislike", genre="Horror", text="dislikes Horror"))
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, timeout=120
    )
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    mem = PreferenceMemory.from_config(embedded_config(tmp_path), encoder)
    assert [r.text for r in mem.all("ann")] == ["dislikes Horror"]
    assert closest(mem, "ann", "scary films")[0].genre == "Horror"


# server mode ---------------------------------------------------------------------------------
def test_dead_server_url_raises_memory_unavailable(tmp_path, encoder):
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(MemoryUnavailable, match="chroma run --path") as err:
        PreferenceMemory.from_config(Config(home=tmp_path, chroma_url=url), encoder)
    assert url in str(err.value)


@pytest.mark.slow
def test_server_mode_add_and_recall(tmp_path, encoder, chroma_server):
    config = Config(home=tmp_path, chroma_url=chroma_server)
    mem = PreferenceMemory.from_config(config, encoder)
    mem.add_many([like("ann", 100, "Fargo (1996)"), genre("ann", "Horror", False)])
    mem.add(like("bob", 2, "GoldenEye (1995)"))
    assert closest(mem, "ann", "horror films")[0].text == "dislikes Horror"
    assert profile(mem, "ann") == UserProfile(user_id="ann", liked_items=[100], genres_disliked=["Horror"])
    assert mem.forget("ann") == 2 and mem.count("bob") == 1
    assert not (tmp_path / "state" / "chroma").exists()  # nothing embedded was opened
