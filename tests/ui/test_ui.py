"""The UI in a real browser: headless Chromium driven by Playwright against the app on 127.0.0.1,
over the small real build (150 ml-100k users), with memory in a fresh temporary folder."""

from __future__ import annotations

import os
import socket

import pytest

from agent.state import Reply, TraceStep
from ui.app import card_html, memory_html, trace_html

CHROMIUM = "/usr/bin/chromium"
# Quiet in a closed network: no GPU, no QUIC, no first-run, sync, component or background fetches.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REQUEST = "a comedy from the 90s"
USER = "5"  # an ml-100k user inside the small build
TIMEOUT_MS = 60_000  # a turn takes well under a second; the margin is for a loaded 2-core machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(rec):
    from ui.app import create_app

    demo = create_app(rec)
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    return demo, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def rec(small_rec):
    return small_rec


@pytest.fixture(scope="module")
def url(rec):
    demo, address = _serve(rec)
    yield address
    demo.close()


@pytest.fixture
def browser(tmp_path):
    """A Chromium context with a fresh profile (--user-data-dir) under the test's tmp folder."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM}: `make test` installs it (apt-get install -y chromium "
                    "chromium-driver); that step failed or was not run")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip) is not installed")
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True,
            viewport={"width": 1440, "height": 1000})
        context.set_default_timeout(TIMEOUT_MS)
        yield context
        context.close()


def pick_user(page, user: str) -> None:
    """Pick an ml-100k user in the dropdown (call once the page has loaded: a late load re-renders it)."""
    box = page.locator("#user-picker input")
    box.click()
    box.fill("")
    label = f"ml-100k user {user}"
    box.press_sequentially(label)
    # click only once the list is filtered down: an option clicked mid re-render can be another user
    page.wait_for_function("""label => {
        const shown = [...document.querySelectorAll('[role=option]')].map(o => o.textContent);
        return shown.length > 0 && shown.every(t => t.includes(label)); }""", arg=label)
    page.get_by_role("option", name=label, exact=True).click()
    page.locator("#user-info", has_text=f"ml-100k user {user}:").wait_for()


def send(page, message: str) -> None:
    """Send a message and wait for the bot's answer to it."""
    answers = page.locator("#chat [data-testid=bot]")
    before = answers.count()
    page.locator("#message textarea").fill(message)
    page.locator("#send").click()
    page.wait_for_function(f"document.querySelectorAll('#chat [data-testid=bot]').length > {before}")


def cards(page) -> list[dict]:
    """The visible recommendation cards, read from their data attributes."""
    out = []
    for card in page.locator(".rec-card").all():
        if card.is_visible():
            genres = card.get_attribute("data-genres")
            out.append({"item_id": int(card.get_attribute("data-item-id")), "title": card.get_attribute("data-title"),
                        "year": int(card.get_attribute("data-year")), "genres": genres.split("|"),
                        "reason": card.locator(".reason").inner_text()})
    return out


def assert_90s_comedies(shown: list[dict]) -> None:
    assert len(shown) >= 5, shown
    for c in shown:
        assert "Comedy" in c["genres"] and 1990 <= c["year"] <= 1999, c


@pytest.mark.slow
def test_chat_like_ask_again_reload(browser, url, rec, tmp_path):
    page = browser.new_page()
    page.goto(url, wait_until="load")
    page.locator("#user-info", has_text="New user").wait_for()

    # who you are: an ml-100k user, shown with a few of their past items
    pick_user(page, USER)
    last_seen = rec.history(USER, 1)[0]
    assert last_seen.title in page.locator("#user-info").inner_text()

    send(page, REQUEST)
    page.locator("#card-4 .rec-card").wait_for()
    first = cards(page)
    assert_90s_comedies(first)
    assert "Nothing remembered yet" in page.locator("#memory").inner_text()

    liked = first[0]
    page.locator("#like-0").click()
    page.locator("#memory li", has_text=f"likes {liked['title']}").wait_for()
    page.locator("#card-0 .rec-card.liked").wait_for()

    send(page, REQUEST)
    page.wait_for_function(f"document.querySelector('#card-0 .rec-card').dataset.itemId != '{liked['item_id']}'")
    second = cards(page)
    assert_90s_comedies(second)
    assert [c["item_id"] for c in second] != [c["item_id"] for c in first]
    assert liked["item_id"] not in {c["item_id"] for c in second}
    assert any(liked["title"] in c["reason"] for c in second), "no card explains itself by the liked film"
    # the trace lists the graph's nodes with their timings
    page.locator("#trace-panel").get_by_text("Trace").click()
    trace = page.locator("#trace").inner_text()
    assert "retrieve" in trace and "ms" in trace and "Planned by the offline rules" in trace

    page.screenshot(path=str(tmp_path / "ui.png"), full_page=True)
    assert (tmp_path / "ui.png").stat().st_size > 10_000

    # reload: this browser comes back as the same user (localStorage), and picking them again shows
    # their memory
    page.reload(wait_until="load")
    page.locator("#user-info", has_text=f"ml-100k user {USER}:").wait_for()  # the page has loaded
    pick_user(page, USER)
    page.locator("#memory li", has_text=f"likes {liked['title']}").wait_for()
    assert cards(page) == []  # a fresh session starts with no list

    # forget me empties the memory
    page.locator("#forget").click()
    page.locator("#memory", has_text="Nothing remembered yet").wait_for()
    assert rec.memories(USER) == []


def test_http_api_with_gradio_client(url):
    client_mod = pytest.importorskip("gradio_client")
    client = client_mod.Client(url, verbose=False)
    reply = client.predict(user_id="api-user", message=REQUEST, session_id="", api_name="/recommend")
    assert_90s_comedies(reply["items"])


@pytest.mark.slow
def test_failure_is_a_chat_message(browser, small_artifacts, small_config, tmp_path):
    from agent import ConvRec

    broken = ConvRec.load(small_artifacts.path, config=small_config.model_copy(update={"memory_dir": tmp_path}))
    demo, address = _serve(broken)
    try:
        page = browser.new_page()
        page.goto(address, wait_until="load")
        page.locator("#user-info", has_text="New user").wait_for()
        broken.close()  # its dialogue-state database is gone: every turn now fails inside
        send(page, REQUEST)
        answer = page.locator("#chat [data-testid=bot]").last.inner_text()
        assert "went wrong" in answer and "Traceback" not in page.content()
        assert cards(page) == []
    finally:
        demo.close()


# with an auth file: Gradio's login, the user id from the login --------------------------------------
ANN_LOGIN, BOB_LOGIN = ("ann", "ann's password"), ("bob", "bob's password")
BOB = "bob-guest"


@pytest.fixture(scope="module")
def signed_in_url(rec, tmp_path_factory):
    from ui.app import create_app, login
    from ui.auth import Auth, add_account

    path = tmp_path_factory.mktemp("ui-auth") / "auth.toml"
    add_account(path, USER, *ANN_LOGIN)
    add_account(path, BOB, *BOB_LOGIN)
    demo = create_app(rec, Auth.load(path))
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                auth=login(Auth.load(path)))
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def sign_in(browser, url: str, username: str, password: str):
    browser.clear_cookies()  # a new person at this browser
    page = browser.new_page()
    page.goto(url, wait_until="load")
    page.get_by_label("username").fill(username)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    page.locator("#user-info").wait_for()
    return page


@pytest.mark.slow
def test_signed_in_users_see_only_their_own_memory(browser, signed_in_url, rec):
    page = sign_in(browser, signed_in_url, *ANN_LOGIN)
    page.locator("#user-info", has_text=f"ml-100k user {USER}:").wait_for()  # the login's user
    assert not page.locator("#user-picker").is_visible()  # no picking someone else
    send(page, REQUEST)
    page.locator("#card-0 .rec-card").wait_for()
    liked = cards(page)[0]
    page.locator("#like-0").click()
    page.locator("#memory li", has_text=f"likes {liked['title']}").wait_for()
    page.close()

    page = sign_in(browser, signed_in_url, *BOB_LOGIN)
    page.locator("#user-info", has_text=f"Signed in as {BOB}").wait_for()
    assert "Nothing remembered yet" in page.locator("#memory").inner_text()
    assert liked["title"] not in page.content()
    send(page, "I hate western films")
    page.locator("#memory li", has_text="dislikes Western").wait_for()
    assert liked["title"] not in page.locator("#memory").inner_text()
    page.locator("#forget").click()  # forgets bob, and only bob
    page.locator("#memory", has_text="Nothing remembered yet").wait_for()
    assert rec.memories(BOB) == []
    assert liked["item_id"] in {m.item_id for m in rec.memories(USER)}
    assert "Western" not in {m.genre for m in rec.memories(USER)}


def test_signed_in_api_acts_only_as_the_login(signed_in_url):
    client_mod = pytest.importorskip("gradio_client")
    with pytest.raises(Exception):  # noqa: B017 - gradio_client raises its own error types for a 401
        client_mod.Client(signed_in_url, verbose=False)  # no login
    client = client_mod.Client(signed_in_url, auth=BOB_LOGIN, verbose=False)
    reply = client.predict(user_id=BOB, message=REQUEST, session_id="", api_name="/recommend")
    assert_90s_comedies(reply["items"])
    with pytest.raises(Exception, match="only act as your own user"):
        client.predict(user_id=USER, message=REQUEST, session_id="", api_name="/recommend")


def test_cards_escape_what_they_show():
    item = {"item_id": 1, "title": "<script>x</script>", "year": 1995, "genres": ["Comedy"],
            "reason": "a & b <b>", "vote": None}
    html = card_html(1, item)
    assert "<script>" not in html and "&lt;script&gt;" in html and "a &amp; b &lt;b&gt;" in html
    assert "Nothing remembered" in memory_html([])


def test_memory_panel_shows_kind_text_and_date_escaped():
    from memory import MemoryRecord

    records = [MemoryRecord(user_id="u", kind="genre_dislike", genre="Horror", text="dislikes Horror films",
                            created_at=1_750_000_000.0),
               MemoryRecord(user_id="u", kind="note", text="loves <b>twists</b>", created_at=1_750_000_100.0)]
    page = memory_html(records)
    assert "avoided genre</span>: dislikes Horror films" in page and "2025-06-15" in page
    assert "note</span>: loves &lt;b&gt;twists&lt;/b&gt;" in page
    assert page.index("twists") < page.index("Horror")  # newest first
    assert "“”" not in page


def test_the_trace_says_who_planned_and_how_long_the_llm_took():
    step = [TraceStep(node="retrieve", ms=3.0, detail="<b>allowed=5</b>")]
    offline = trace_html(Reply(text="", trace=step, session_id="s"))
    assert "Planned by the offline rules</p>" in offline and "waiting for the LLM" not in offline
    assert "&lt;b&gt;allowed=5" in offline  # the trace is escaped
    llm = trace_html(Reply(text="", trace=step, session_id="s", planner="llm", llm_ms=2512.4))
    assert "Planned by the LLM, 2512 ms waiting for the LLM" in llm
    fell = trace_html(Reply(text="", trace=step, session_id="s", planner="llm-fallback", llm_ms=8000.0))
    assert "the offline rules after an LLM fault, 8000 ms" in fell
