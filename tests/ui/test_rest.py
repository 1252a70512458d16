"""The REST API in process (FastAPI's TestClient) over the small real build: every endpoint, every
error status, and the auth rules. Replicas in real processes are in test_replicas.py."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from agent import MAX_MESSAGE
from ui.auth import Auth, AuthError, add_account, hash_password, verify_password
from ui.rest import create_api

ANN, BOB = "5", "bob-guest"  # an ml-100k user inside the small build, and a new user


@pytest.fixture(scope="module")
def rec(small_rec):
    return small_rec


@pytest.fixture(scope="module")
def tokens(tmp_path_factory):
    path = tmp_path_factory.mktemp("auth") / "auth.toml"
    ann = add_account(path, ANN)
    bob = add_account(path, BOB, username="bob", password="correct horse")
    return path, {ANN: ann, BOB: bob}


@pytest.fixture(scope="module")
def open_api(rec):
    return TestClient(create_api(rec), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def api(rec, tokens):
    return TestClient(create_api(rec, Auth.load(tokens[0])), raise_server_exceptions=False)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_openapi_lists_every_endpoint(open_api):
    spec = open_api.get("/openapi.json").json()
    assert {p: sorted(ops) for p, ops in spec["paths"].items()} == {
        "/v1/chat": ["post"], "/v1/feedback": ["post"], "/v1/memories/{user_id}": ["delete", "get"],
        "/v1/memories/{user_id}/{memory_id}": ["delete"], "/healthz": ["get"]}
    assert open_api.get("/docs").status_code == 200


def test_chat_feedback_and_memory_round_trip(open_api, rec):
    user = "rest-round-trip"
    r = open_api.post("/v1/chat", json={"user_id": user, "session_id": "s1", "message": "a comedy from the 90s"})
    assert r.status_code == 200, r.text
    reply = r.json()
    assert set(reply) >= {"text", "items", "question", "warnings", "trace"}
    assert len(reply["items"]) >= 5
    for item in reply["items"]:
        assert set(item) >= {"item_id", "title", "year", "genres", "score", "reason"}
        assert "Comedy" in item["genres"] and 1990 <= item["year"] <= 1999
    assert [s["node"] for s in reply["trace"]][0] == "understand"

    first = reply["items"][0]
    r = open_api.post("/v1/feedback", json={"user_id": user, "item_id": first["item_id"], "liked": True})
    assert r.status_code == 200 and r.json()["kind"] == "like" and first["title"] in r.json()["text"]
    r = open_api.post("/v1/chat", json={"user_id": user, "session_id": "s1", "message": "I hate horror films"})
    assert r.status_code == 200
    memories = open_api.get(f"/v1/memories/{user}").json()
    assert memories["user_id"] == user
    kinds = [m["kind"] for m in memories["memories"]]
    assert kinds[0] == "like" and "genre_dislike" in kinds
    assert [m.id for m in rec.memories(user)] == [m["id"] for m in memories["memories"]]

    one = memories["memories"][0]["id"]
    assert open_api.delete(f"/v1/memories/{user}/{one}").json() == {"user_id": user, "deleted": 1}
    assert one not in {m.id for m in rec.memories(user)}
    assert open_api.delete(f"/v1/memories/{user}/{one}").status_code == 404
    left = len(rec.memories(user))
    assert open_api.delete(f"/v1/memories/{user}").json() == {"user_id": user, "deleted": left}
    assert open_api.get(f"/v1/memories/{user}").json()["memories"] == []


def test_session_state_follows_the_session_id(open_api, rec):
    user = "rest-sessions"

    def say(session: str, message: str) -> dict:
        return open_api.post("/v1/chat", json={"user_id": user, "session_id": session, "message": message}).json()

    shown = say("a", "a comedy from the 90s")["items"]
    more, fresh = say("a", "more like the first one"), say("b", "more like the first one")
    assert "haven't shown" in fresh["text"] and "haven't shown" not in more["text"]
    assert rec.session(user, "a").liked_items == [shown[0]["item_id"]]
    assert rec.session(user, "b").liked_items == []
    assert shown[0]["item_id"] not in {i["item_id"] for i in more["items"]}


@pytest.mark.parametrize("body", [
    {"user_id": "u", "message": ""},                      # empty message
    {"user_id": "", "message": "hi"},                     # empty user
    {"user_id": "u" * 129, "message": "hi"},              # user id too long
    {"user_id": "u", "message": "x" * (MAX_MESSAGE + 1)},  # message longer than the agent reads
    {"user_id": "u"},                                     # no message
    {"user_id": 5, "message": "hi"},                      # user id not a string
    {"user_id": "u", "session_id": "a\x1fb", "message": "hi"},
])
def test_invalid_chat_bodies_get_422_as_json(open_api, body):
    r = open_api.post("/v1/chat", json=body)
    assert r.status_code == 422 and r.headers["content-type"] == "application/json"
    assert r.json()["detail"] and "Traceback" not in r.text
    assert "x" * 1000 not in r.text  # the input is not echoed back


def test_the_longest_message_the_agent_reads_is_accepted(open_api):
    r = open_api.post("/v1/chat", json={"user_id": "rest-long", "message": "a western " + "x" * (MAX_MESSAGE - 10)})
    assert r.status_code == 200 and r.json()["error"] is None


def test_a_crash_inside_the_turn_gives_500_and_no_details(open_api, rec, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("injected fault")

    monkeypatch.setattr(rec.tools.recommender, "candidates", crash)
    r = open_api.post("/v1/chat", json={"user_id": "rest-crash", "message": "a western"})
    assert r.status_code == 500 and r.json() == {"detail": "the turn failed: internal error (logged)"}


def test_errors_are_json_with_the_right_status(open_api):
    r = open_api.post("/v1/feedback", json={"user_id": "u", "item_id": 999_999, "liked": True})
    assert r.status_code == 404 and "not in the catalog" in r.json()["detail"]
    r = open_api.post("/v1/feedback", json={"user_id": "u", "item_id": "one", "liked": True})
    assert r.status_code == 422
    r = open_api.post("/v1/chat", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert open_api.delete("/v1/memories/u/no-such-memory").status_code == 404
    assert open_api.get("/v1/nothing-here").status_code == 404
    assert open_api.get("/v1/nothing-here").json() == {"detail": "Not Found"}
    # a blank session id reaches the agent's own check: 400, said plainly
    r = open_api.post("/v1/chat", json={"user_id": "u", "session_id": "   ", "message": "hi"})
    assert r.status_code in (400, 422) and "session_id" in r.text


def test_health(open_api, rec):
    r = open_api.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "parts": {"state": "ok", "memory": "ok"}, "system": "agent",
                        "items": rec.catalog_size}


def test_broken_dialogue_state_gives_503_and_loses_nothing(small_artifacts, small_config, tmp_path):
    from agent import ConvRec

    rec = ConvRec.load(small_artifacts.path, config=small_config.model_copy(update={"memory_dir": tmp_path}))
    client = TestClient(create_api(rec), raise_server_exceptions=False)
    assert client.post("/v1/chat", json={"user_id": "u", "message": "a comedy"}).status_code == 200
    rec.checkpointer.conn.close()  # the database is gone
    r = client.post("/v1/chat", json={"user_id": "u", "message": "a drama"})
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert "state unavailable" in r.json()["detail"] and "Traceback" not in r.text
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["status"] == "unavailable"
    assert health.json()["parts"]["memory"] == "ok" and health.json()["parts"]["state"] != "ok"


@pytest.mark.slow
def test_memory_server_down_gives_503_then_recovers(small_artifacts, small_config, tmp_path):
    from agent import ConvRec
    from ui.cluster import ChromaServer

    server = ChromaServer(tmp_path / "chroma").start()
    try:
        config = small_config.model_copy(update={"memory_dir": tmp_path / "state", "chroma_url": server.url})
        rec = ConvRec.load(small_artifacts.path, config=config)
        client = TestClient(create_api(rec), raise_server_exceptions=False)
        like = {"user_id": "u", "item_id": 1, "liked": True}
        assert client.post("/v1/feedback", json=like).status_code == 200
        server.stop()
        for r in (client.post("/v1/feedback", json=like), client.get("/v1/memories/u"),
                  client.post("/v1/chat", json={"user_id": "u", "message": "a comedy"}),
                  client.delete("/v1/memories/u")):
            assert r.status_code == 503 and "memory unavailable" in r.json()["detail"], r.text
        assert client.get("/healthz").json()["parts"]["state"] == "ok"
        server = ChromaServer(tmp_path / "chroma", server.port).start()  # same data, same port
        memories = client.get("/v1/memories/u").json()["memories"]
        assert [m["item_id"] for m in memories] == [1]  # the acknowledged like survived
        rec.close()
    finally:
        server.stop()


# auth ----------------------------------------------------------------------------------------------
CALLS = [
    ("post", "/v1/chat", {"user_id": "{u}", "session_id": "s", "message": "a comedy from the 90s"}),
    ("post", "/v1/feedback", {"user_id": "{u}", "item_id": 1, "liked": True}),
    ("get", "/v1/memories/{u}", None),
    ("delete", "/v1/memories/{u}/some-id", None),
    ("delete", "/v1/memories/{u}", None),
]


def call(client, method, path, body, user, headers=None):
    body = {k: (v.format(u=user) if isinstance(v, str) else v) for k, v in body.items()} if body else None
    return client.request(method, path.format(u=user), json=body, headers=headers or {})


@pytest.mark.parametrize(("method", "path", "body"), CALLS)
def test_missing_or_wrong_token_gets_401(api, method, path, body, tokens):
    for headers in ({}, bearer("not-a-token"), {"Authorization": tokens[1][ANN]},  # no scheme
                    {"Authorization": f"Basic {tokens[1][ANN]}"}, bearer("")):
        r = call(api, method, path, body, ANN, headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.headers["www-authenticate"] == "Bearer" and "detail" in r.json()


@pytest.mark.parametrize(("method", "path", "body"), CALLS)
def test_another_users_id_gets_403(api, method, path, body, tokens, rec):
    before = len(rec.memories(BOB))
    r = call(api, method, path, body, BOB, bearer(tokens[1][ANN]))
    assert r.status_code == 403 and "own user" in r.json()["detail"]
    assert len(rec.memories(BOB)) == before  # nothing was done as bob


def test_two_users_never_see_each_others_memory(api, tokens, rec):
    ann, bob = bearer(tokens[1][ANN]), bearer(tokens[1][BOB])
    r = api.post("/v1/feedback", json={"user_id": ANN, "item_id": 50, "liked": True}, headers=ann)
    assert r.status_code == 200
    ann_memory = r.json()["id"]
    r = api.post("/v1/chat", json={"user_id": BOB, "message": "I hate western films"}, headers=bob)
    assert r.status_code == 200
    ann_sees = {m["id"] for m in api.get(f"/v1/memories/{ANN}", headers=ann).json()["memories"]}
    bob_sees = {m["id"] for m in api.get(f"/v1/memories/{BOB}", headers=bob).json()["memories"]}
    assert ann_memory in ann_sees and bob_sees and not ann_sees & bob_sees
    assert all(m.user_id == BOB for m in rec.memories(BOB))
    # bob cannot read ann's memory, nor delete it under his own name
    assert api.get(f"/v1/memories/{ANN}", headers=bob).status_code == 403
    assert api.delete(f"/v1/memories/{BOB}/{ann_memory}", headers=bob).status_code == 404
    assert ann_memory in {m.id for m in rec.memories(ANN)}
    # health needs no token (load balancers poll it) and tells no user data
    assert api.get("/healthz").status_code == 200


# the auth file ------------------------------------------------------------------------------------
def test_auth_file_stores_only_hashes(tokens):
    path, plain = tokens
    text = path.read_text()
    assert all(t not in text for t in plain.values()) and "correct horse" not in text
    auth = Auth.load(path)
    assert auth.user_for_token(plain[ANN]) == ANN and auth.user_for_token(plain[BOB]) == BOB
    assert auth.user_for_token(plain[ANN] + "x") is None
    assert auth.check_password("bob", "correct horse") and auth.user_for_login("bob") == BOB
    assert not auth.check_password("bob", "wrong") and not auth.check_password("nobody", "correct horse")
    assert path.stat().st_mode & 0o077 == 0


def test_password_hashes_are_salted():
    a, b = hash_password("same"), hash_password("same")
    assert a != b and verify_password("same", a) and verify_password("same", b)
    assert not verify_password("same", "scrypt$garbage") and not verify_password("same", "plain")


@pytest.mark.parametrize(("text", "why"), [
    ('[[users]]\nuser_id = "1"\ntokens = ["plain-token"]\n', "sha256 hashes"),
    ('[[users]]\nuser_id = "1"\nusername = "a"\npassword = "hunter2"\n', "scrypt hash"),
    ('[[users]]\nuser_id = "1"\n', "needs a token"),
    ("[[users]\n", "not valid"),
])
def test_a_bad_auth_file_is_refused_with_a_reason(tmp_path, text, why):
    path = tmp_path / "auth.toml"
    path.write_text(text)
    with pytest.raises(AuthError, match=why):
        Auth.load(path)


def test_a_username_cannot_be_added_twice(tmp_path):
    path = tmp_path / "auth.toml"
    add_account(path, "1", username="ann", password="pw")
    with pytest.raises(AuthError, match="already"):
        add_account(path, "2", username="ann", password="other")
    assert Auth.load(path).user_for_login("ann") == "1"
