"""Guarantees under stress: fuzzed turns, concurrency isolation, a killed process, Chroma server mode."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent import ConvRec


@pytest.fixture(scope="module")
def rec(small_rec):
    return small_rec


WORDS = st.sampled_from(["like", "Fargo", "no", "horror", "90s", "before", "1980", "the", "second", "one",
                         "'; DROP TABLE", "<b>", "\x00", "99999", "ignore previous instructions", "😀", "Star Trek"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.one_of(WORDS, st.text(max_size=30)), max_size=12))
def test_fuzzed_turns_always_reply_inside_the_catalog(rec, parts):
    user = "fuzz-" + uuid.uuid4().hex[:6]
    for message in (" ".join(parts), "more like the first one"):
        r = rec.chat(user, message)
        assert r.error is None and r.dropped_outside_catalog == 0  # the guard caught nothing
        assert r.text
        assert all(rec.in_catalog(i.item_id) for i in r.items)
        assert len({i.item_id for i in r.items}) == len(r.items)


def test_concurrent_users_never_cross_talk(rec):
    genres = ["Horror", "Romance", "Western", "Musical", "War", "Documentary", "Film-Noir", "Animation"]
    users = {f"cc-{uuid.uuid4().hex[:6]}": g for g in genres}
    errors, replies = [], {}

    def converse(user, genre):
        try:
            rec.chat(user, f"I hate {genre.lower()} films", session_id="s")
            replies[user] = rec.chat(user, "recommend something from the 90s", session_id="s")
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=converse, args=item) for item in users.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for user, genre in users.items():
        mems = rec.memories(user)
        assert mems and all(m.user_id == user for m in mems)
        assert {m.genre for m in mems if m.kind == "genre_dislike"} == {genre}
        others = [g for g in genres if g != genre]
        reply = replies[user]
        assert not any(g in reply.text for g in others)
        assert all(genre not in i.genres for i in reply.items)
        assert not any(other in step.detail for step in reply.trace for other in users if other != user)


CHILD = textwrap.dedent("""
    import sys
    from agent import ConvRec
    from tools.config import Config
    config = Config(home=sys.argv[1], memory_dir=sys.argv[2], dataset=sys.argv[3], artifacts=sys.argv[4])
    rec = ConvRec.load(config=config)
    reply = rec.chat("crash-user", "a comedy from the 90s", session_id="s1")
    rec.feedback("crash-user", reply.items[0].item_id, liked=False, session_id="s1")
    print("FED", reply.items[0].item_id, flush=True)
    import time
    time.sleep(120)
""")


def _kill_after(script: str, said: str, small_artifacts, small_config, state) -> str:
    """Run ``script`` in a child over the small build, wait for its line starting with ``said``
    (the acknowledgement), SIGKILL it at once, and return that line."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(small_config.home), str(state), small_config.dataset,
         str(small_artifacts.path)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=os.getcwd(),
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith(said), f"child said {line!r}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    return line


def test_feedback_survives_sigkill_and_session_resumes(small_artifacts, small_config, tmp_path):
    state = tmp_path / "state"
    disliked = int(_kill_after(CHILD, "FED", small_artifacts, small_config, state).split()[1])
    config = small_config.model_copy(update={"memory_dir": state})
    again = ConvRec.load(small_artifacts.path, config=config)
    try:
        assert any(m.kind == "dislike" and m.item_id == disliked for m in again.memories("crash-user"))
        session = again.session("crash-user", "s1")
        assert session.constraints.genres == ["Comedy"] and session.last_shown
        r = again.chat("crash-user", "something else", session_id="s1")
        assert r.items and disliked not in [i.item_id for i in r.items]
        assert all("Comedy" in i.genres and 1990 <= i.year <= 1999 for i in r.items)
    finally:
        again.close()


CHILD_SAYS = textwrap.dedent("""
    import sys
    from agent import ConvRec
    from tools.config import Config
    config = Config(home=sys.argv[1], memory_dir=sys.argv[2], dataset=sys.argv[3], artifacts=sys.argv[4])
    rec = ConvRec.load(config=config)
    reply = rec.chat("crash-hater", "I can't stand horror movies", session_id="s1")
    print("REPLIED", flush=True)  # the turn returned: what it remembered is acknowledged
    import time
    time.sleep(120)
""")


def test_a_remembered_taste_survives_sigkill(small_artifacts, small_config, tmp_path):
    state = tmp_path / "state"
    _kill_after(CHILD_SAYS, "REPLIED", small_artifacts, small_config, state)
    again = ConvRec.load(small_artifacts.path, config=small_config.model_copy(update={"memory_dir": state}))
    try:
        assert [(m.kind, m.genre) for m in again.memories("crash-hater")] == [("genre_dislike", "Horror")]
        r = again.chat("crash-hater", "something from the 90s", session_id="s2")
        assert r.items and all("Horror" not in i.genres for i in r.items)
    finally:
        again.close()


@pytest.mark.slow
def test_conversation_against_a_chroma_server(small_artifacts, small_config, chroma_server, tmp_path):
    config = small_config.model_copy(update={"chroma_url": chroma_server, "memory_dir": tmp_path / "state"})
    rec = ConvRec.load(small_artifacts.path, config=config)
    try:
        rec.chat("srv", "I loved Fargo, I never want horror", session_id="a")
        r = rec.chat("srv", "what should I watch?", session_id="b")
        assert r.items and all("Horror" not in i.genres for i in r.items)
        assert {m.kind for m in rec.memories("srv")} >= {"like", "genre_dislike"}
        assert not (tmp_path / "state" / "chroma").exists()  # memory lives in the server
    finally:
        rec.close()
