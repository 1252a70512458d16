"""Two real `convrec serve` processes over one PostgreSQL (dialogue state) and one Chroma server
(memory), on the small real build: a conversation may hop between them, a replica killed with
SIGKILL loses no acknowledged turn or memory, and users stay apart. An in-process ConvRec over the
same PostgreSQL and Chroma reads what the replicas stored."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from ui.auth import add_account
from ui.cluster import ChromaServer, Replica

pytestmark = pytest.mark.slow

ANN, BOB = "5", "bob-guest"
KILL_USERS = [f"crash-{i}" for i in range(6)]
HATED = ["Horror", "Romance", "Western", "Musical", "War", "Documentary", "Film-Noir", "Fantasy"]


@pytest.fixture(scope="module")
def cluster(postgres_server, small_artifacts, small_config, tmp_path_factory):
    """PostgreSQL + Chroma + two replicas (auth on) + an in-process observer over the same state."""
    from agent import ConvRec

    root = tmp_path_factory.mktemp("cluster")
    auth_file = root / "auth.toml"
    tokens = {user: add_account(auth_file, user) for user in [ANN, BOB, *KILL_USERS]}
    pg_url = postgres_server.create_database("replicas_" + root.name.replace("-", "_")[-20:])
    with ChromaServer(root / "chroma") as chroma:
        env = {"CONVREC_HOME": str(small_config.home), "CONVREC_DATASET": small_config.dataset,
               "CONVREC_ARTIFACTS": str(small_artifacts.path), "CONVREC_MEMORY_DIR": str(root / "unused"),
               "CONVREC_CHECKPOINT_URL": pg_url, "CONVREC_CHROMA_URL": chroma.url,
               "CONVREC_AUTH_FILE": str(auth_file), "CONVREC_LLM_BASE_URL": ""}
        replicas = [Replica(env=env, log=root / f"replica-{i}.log").start() for i in range(2)]
        observer = None
        try:
            for r in replicas:
                r.wait_ready()
            config = small_config.model_copy(update={"checkpoint_url": pg_url, "chroma_url": chroma.url,
                                                     "memory_dir": root / "observer"})
            observer = ConvRec.load(small_artifacts.path, config=config)
            yield replicas, tokens, observer
        finally:
            for r in replicas:
                r.stop()
            if observer is not None:
                observer.close()
            assert not (root / "unused").exists(), "a replica opened local state instead of the shared one"


def client(replica: Replica, token: str) -> httpx.Client:
    return httpx.Client(base_url=replica.url, headers={"Authorization": f"Bearer {token}"}, timeout=120)


def test_a_conversation_alternating_between_replicas_keeps_its_state(cluster):
    (a, b), tokens, observer = cluster
    at_a, at_b = client(a, tokens[ANN]), client(b, tokens[ANN])

    def say(at: httpx.Client, message: str) -> dict:
        r = at.post("/v1/chat", json={"user_id": ANN, "session_id": "hop", "message": message})
        assert r.status_code == 200, r.text
        return r.json()

    shown = say(at_a, "a comedy from the 90s")["items"]
    assert shown and all("Comedy" in i["genres"] for i in shown)
    more = say(at_b, "more like the first one")  # B has never seen this session
    assert "haven't shown" not in more["text"]
    session = observer.session(ANN, "hop")
    assert session.liked_items == [shown[0]["item_id"]] and session.turns == 2
    assert shown[0]["item_id"] not in {i["item_id"] for i in more["items"]}
    older = say(at_a, "something older")  # back at A: the constraints B kept still hold
    assert older["items"] and all("Comedy" in i["genres"] for i in older["items"])
    assert observer.session(ANN, "hop").turns == 3
    # a fresh session on either replica starts empty
    fresh = at_b.post("/v1/chat", json={"user_id": ANN, "session_id": "other", "message": "more like the first one"})
    assert "haven't shown" in fresh.json()["text"]


def test_memory_written_at_one_replica_is_read_at_the_other_and_users_stay_apart(cluster):
    (a, b), tokens, observer = cluster
    ann_a, ann_b, bob_a, bob_b = (client(a, tokens[ANN]), client(b, tokens[ANN]),
                                  client(a, tokens[BOB]), client(b, tokens[BOB]))
    liked = ann_a.post("/v1/feedback", json={"user_id": ANN, "item_id": 50, "liked": True})
    assert liked.status_code == 200
    assert bob_b.post("/v1/chat", json={"user_id": BOB, "message": "I hate horror films"}).status_code == 200
    ann_sees = ann_b.get(f"/v1/memories/{ANN}").json()["memories"]
    bob_sees = bob_a.get(f"/v1/memories/{BOB}").json()["memories"]
    assert liked.json()["id"] in {m["id"] for m in ann_sees}
    assert [m["kind"] for m in bob_sees if m["kind"] != "statement"] == ["genre_dislike"]
    assert not {m["id"] for m in ann_sees} & {m["id"] for m in bob_sees}
    # through either replica, bob can neither read nor erase ann's memory
    for bob in (bob_a, bob_b):
        assert bob.get(f"/v1/memories/{ANN}").status_code == 403
        assert bob.delete(f"/v1/memories/{ANN}").status_code == 403
        assert bob.post("/v1/chat", json={"user_id": ANN, "message": "hi"}).status_code == 403
        assert bob.delete(f"/v1/memories/{BOB}/{liked.json()['id']}").status_code == 404
    assert liked.json()["id"] in {m.id for m in observer.memories(ANN)}
    for replica in (a, b):
        assert httpx.get(f"{replica.url}/v1/memories/{ANN}").status_code == 401
        assert httpx.get(f"{replica.url}/v1/memories/{ANN}", headers={"Authorization": "Bearer nope"}
                         ).status_code == 401


def test_killing_a_replica_loses_no_acknowledged_turn_or_memory(cluster):
    """Six sessions talk to A; A gets SIGKILL mid-run; everything A acknowledged is stored, and every
    conversation goes on at B from where it was. (Kills A: keep this test last in the module.)"""
    (a, b), tokens, observer = cluster
    acked = {u: {"turns": 0, "genres": [], "likes": []} for u in KILL_USERS}
    sent = dict.fromkeys(KILL_USERS, 0)
    stop, cut = threading.Event(), []
    item_ids = [int(i) for i in observer.tools.catalog.item_ids[:200]]

    def talk(n: int, user: str) -> None:
        at = client(a, tokens[user])
        for turn in range(40):
            if stop.is_set():
                return
            genre, item = HATED[(n + turn) % len(HATED)], item_ids[(7 * n + turn) % len(item_ids)]
            try:
                sent[user] += 1
                r = at.post("/v1/chat", json={"user_id": user, "session_id": "s",
                                              "message": f"a film from the 90s, I hate {genre.lower()} films"})
                if r.status_code != 200:
                    return
                acked[user]["turns"] += 1
                acked[user]["genres"].append(genre)
                r = at.post("/v1/feedback", json={"user_id": user, "item_id": item, "liked": True, "session_id": "s"})
                if r.status_code != 200:
                    return
                acked[user]["likes"].append(item)
            except httpx.HTTPError:  # the replica died under this request: not acknowledged
                cut.append(user)
                return

    threads = [threading.Thread(target=talk, args=(n, u)) for n, u in enumerate(KILL_USERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 300
    while sum(v["turns"] for v in acked.values()) < 3 * len(KILL_USERS) and time.monotonic() < deadline:
        time.sleep(0.05)
    a.kill()  # SIGKILL with requests in flight
    stop.set()
    for t in threads:
        t.join(timeout=120)
    assert sum(v["turns"] for v in acked.values()) >= 3 * len(KILL_USERS)
    assert cut, "no request was in flight when the replica died"

    for user in KILL_USERS:
        state = observer.session(user, "s")
        assert acked[user]["turns"] <= state.turns <= sent[user], (user, acked[user], state)
        memories = observer.memories(user)
        assert {m.user_id for m in memories} <= {user}
        stored_genres = {m.genre for m in memories if m.kind == "genre_dislike"}
        stored_likes = {m.item_id for m in memories if m.kind == "like"}
        assert set(acked[user]["genres"]) <= stored_genres, (user, acked[user]["genres"], stored_genres)
        assert set(acked[user]["likes"]) <= stored_likes, (user, acked[user]["likes"], stored_likes)

        # the conversation goes on at B, from the list A showed last
        at_b = client(b, tokens[user])
        last = state.last_shown
        r = at_b.post("/v1/chat", json={"user_id": user, "session_id": "s", "message": "more like the first one"})
        assert r.status_code == 200 and "haven't shown" not in r.json()["text"]
        after = observer.session(user, "s")
        assert after.turns == state.turns + 1 and last[0] in after.liked_items
    assert httpx.get(f"{b.url}/healthz").status_code == 200
