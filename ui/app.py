"""The Gradio app: chat beside the current recommendations, like/dislike, user picker, memory, trace.

``create_app(rec, auth)`` builds the Blocks; serve it with ``demo.launch(server_name=..., server_port=...,
auth=login(auth))`` or ``convrec ui``. Everything goes through the public ``agent.ConvRec`` API
(directly, not through the REST API: one process needs no HTTP hop to itself).

Without an auth file anyone may pick any user (the demo). With one, Gradio's login form checks the
password and the user id comes from the login: no picker, and every handler acts as that user.
"""

from __future__ import annotations

import html
import logging
import os
import time
import uuid
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gradio as gr  # noqa: E402

from agent import ConvRec, Reply  # noqa: E402
from memory.preferences import KIND_NAMES  # noqa: E402
from ui.auth import Auth  # noqa: E402

log = logging.getLogger(__name__)

NEW_USER = "new"
PAST_ITEMS = 5
EXAMPLES = ["a comedy from the 90s", "something like Star Wars but older", "a thriller from the 80s, no horror",
            "more like the first one"]
# The browser keeps the guest id and the last pick in localStorage. A fixed key so it survives server
# restarts; it protects nothing, since anyone may pick any user in this demo.
BROWSER_KEY = "convrec-ui-v1"

CARD_CSS = """
.rec-card { display: flex; gap: 12px; align-items: flex-start; padding: 10px 12px;
  border: 1px solid var(--border-color-primary); border-radius: 10px; background: var(--background-fill-primary); }
.rec-card.liked { border-color: #16a34a; box-shadow: inset 4px 0 0 #16a34a; }
.rec-card.disliked { opacity: .55; box-shadow: inset 4px 0 0 #dc2626; }
.rank { flex: none; width: 28px; height: 28px; border-radius: 50%; display: flex; align-items: center;
  justify-content: center; font-weight: 600; background: var(--color-accent-soft); color: var(--color-accent); }
.body { min-width: 0; }
.title { font-weight: 600; font-size: 1.02em; }
.year { color: var(--body-text-color-subdued); font-weight: 400; }
.vote { margin-left: 6px; font-size: .85em; font-weight: 400; }
.chips { margin: 3px 0; display: flex; flex-wrap: wrap; gap: 4px; }
.chip { font-size: .78em; padding: 1px 7px; border-radius: 9px; background: var(--background-fill-secondary);
  border: 1px solid var(--border-color-primary); }
.reason { font-size: .88em; color: var(--body-text-color-subdued); }
"""
PANEL_CSS = """
ul { margin: 4px 0 0 0; padding-left: 0; list-style: none; }
li { padding: 2px 0; }
table { width: 100%; border-collapse: collapse; font-size: .88em; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--border-color-primary); vertical-align: top; }
td.ms { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.muted { color: var(--body-text-color-subdued); }
"""
KIND_ICON = {"like": "✓", "dislike": "✗", "genre_like": "♥", "genre_dislike": "⊘", "era_like": "♥",
             "critique": "↺", "note": "✎"}


# ---- rendering (pure functions of the API's models) ---------------------------------------------

def card_html(rank: int, item: dict[str, Any]) -> str:
    """One recommendation card; every value from the catalog or the agent is escaped."""
    state = {"like": "liked", "dislike": "disliked"}.get(item.get("vote"), "")
    badge = {"liked": "✓ liked", "disliked": "✗ disliked"}.get(state, "")
    genres = "".join(f'<span class="chip">{html.escape(g)}</span>' for g in item["genres"])
    year = f' <span class="year">({item["year"]})</span>' if item.get("year") else ""
    return (
        f'<div class="rec-card {state}" data-item-id="{item["item_id"]}" data-year="{item.get("year") or ""}"'
        f' data-genres="{html.escape("|".join(item["genres"]))}" data-title="{html.escape(item["title"])}">'
        f'<div class="rank">{rank}</div><div class="body">'
        f'<div class="title">{html.escape(item["title"])}{year}<span class="vote">{badge}</span></div>'
        f'<div class="chips">{genres}</div><div class="reason">{html.escape(item["reason"])}</div></div></div>'
    )


def memory_html(records: list) -> str:
    if not records:
        return ('<p class="muted">Nothing remembered yet. Like or dislike a card, or tell me a film you '
                'loved or a genre you avoid.</p>')
    rows = "".join(f'<li data-id="{html.escape(r.id)}">{KIND_ICON.get(r.kind, "•")} '
                   f'<span class="kind">{html.escape(KIND_NAMES.get(r.kind, r.kind))}</span>: {html.escape(r.text)} '
                   f'<span class="muted">{time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created_at))}</span></li>'
                   for r in sorted(records, key=lambda r: r.created_at, reverse=True))
    return f'<div id="memory-list"><span class="muted">{len(records)} remembered, newest first</span><ul>{rows}</ul></div>'


PLANNERS = {"offline": "the offline rules", "llm": "the LLM", "llm-fallback": "the offline rules after an LLM fault"}


def trace_html(reply: Reply | None) -> str:
    if reply is None or not reply.trace:
        return '<p class="muted">Send a message to see which steps ran and how long each took.</p>'
    total = sum(s.ms for s in reply.trace)
    who = PLANNERS[reply.planner] + (f", {reply.llm_ms:.0f} ms waiting for the LLM" if reply.llm_ms else "")
    rows = "".join(f'<tr><td>{html.escape(s.node)}</td><td class="ms">{s.ms:.1f} ms</td>'
                   f'<td>{html.escape(s.detail)}</td></tr>' for s in reply.trace)
    return (f'<p id="planner">Planned by {html.escape(who)}</p>'
            f'<table><tr><th>step</th><th class="ms">time</th><th>what it did</th></tr>{rows}'
            f'<tr><td><b>total</b></td><td class="ms"><b>{total:.1f} ms</b></td><td></td></tr></table>')


def reply_markdown(reply: Reply) -> str:
    """The chat bubble: the agent's text, plus any warning it did not already say."""
    extra = [w for w in reply.warnings if w not in reply.text]
    text = reply.text or "(no answer)"
    if reply.items:
        text += "\n\nThe picks are on the right; like or dislike any of them and I'll remember it."
    return text + "".join(f"\n\n_Note: {w}_" for w in extra)


def _say(chat: list, text: str) -> list:
    return [*chat, {"role": "assistant", "content": text}]


def _failure(exc: Exception) -> str:
    if isinstance(exc, (ValueError, TypeError)):
        return f"I couldn't do that: {exc}"
    return "Sorry, something went wrong on my side (it's in the server log). Please try again."


# ---- the app -----------------------------------------------------------------------------------

def login(auth: Auth | None):
    """Gradio's ``auth=`` argument for ``launch``: the auth file's password check, or None (open demo)."""
    return None if auth is None else auth.check_password


def create_app(rec: ConvRec, auth: Auth | None = None) -> gr.Blocks:
    """Build the UI over one loaded ConvRec (shared by every browser session); with ``auth``, launch it
    with ``auth=login(auth)``: each browser then acts only as its login's user."""
    known_users = rec.known_users()
    known = set(known_users)
    choices = [("New user (this browser)", NEW_USER)] + [(f"ml-100k user {u}", u) for u in known_users]
    slots = rec.config.k  # card slots are rendered once and shown/hidden: one per item of a reply

    def user_info(user_id: str, pick: str) -> str:
        if auth is not None and pick == NEW_USER:
            return f"**Signed in** as `{user_id}`. No history yet: tell me a film you liked, a genre or a decade."
        if pick == NEW_USER:
            return (f"**New user** (`{user_id}` on this browser). No history yet: tell me a film you liked, "
                    "a genre or a decade.")
        recent = rec.history(pick, PAST_ITEMS)
        titles = "; ".join(i.label for i in recent)
        return f"**ml-100k user {pick}**: {rec.history_size(pick)} films rated. Recently: {titles}."

    def signed_in(request: gr.Request | None) -> str:
        """The login's user id; every handler acts as this user when there is an auth file."""
        user_id = auth.user_for_login(request.username) if request is not None and request.username else None
        if user_id is None:  # Gradio lets no request through without a login; this is belt and braces
            raise PermissionError("not signed in")
        return user_id

    def acting(user_id: str, request: gr.Request | None) -> str:
        return user_id if auth is None else signed_in(request)

    def resolve(pick: str | None, saved: dict | None, request: gr.Request | None = None) -> tuple[str, str, dict]:
        if auth is not None:
            user_id = signed_in(request)
            return user_id, (user_id if user_id in known else NEW_USER), dict(saved or {})
        saved = dict(saved or {})
        saved.setdefault("guest", "guest-" + uuid.uuid4().hex[:8])
        pick = pick if pick in known else NEW_USER
        saved["pick"] = pick
        return (saved["guest"] if pick == NEW_USER else pick), pick, saved

    with gr.Blocks(title="convrec", analytics_enabled=False) as demo:
        browser = gr.BrowserState({}, storage_key=BROWSER_KEY, secret=BROWSER_KEY)
        user = gr.State("")
        session = gr.State("")
        items = gr.State([])  # the cards shown: RecItem dicts plus "vote"
        pending = gr.State("")  # the message being answered

        gr.Markdown("## convrec: a conversational movie recommender (MovieLens-100K)")
        with gr.Row(equal_height=False):
            with gr.Column(scale=5, min_width=380):
                with gr.Row():
                    picker = gr.Dropdown(choices, value=NEW_USER, label="Who are you?", scale=3,
                                         elem_id="user-picker", filterable=True, visible=auth is None)
                    new_session = gr.Button("New session", scale=1, elem_id="new-session", size="md")
                info = gr.Markdown(elem_id="user-info")
                chatbot = gr.Chatbot(label="Chat", height=500, elem_id="chat", feedback_options=None,
                                     group_consecutive_messages=False,
                                     placeholder="Ask for a film: a genre, a decade, one you loved...")
                with gr.Row():
                    box = gr.Textbox(placeholder="e.g. a comedy from the 90s", show_label=False, scale=5,
                                     elem_id="message", autofocus=True)
                    send = gr.Button("Send", variant="primary", scale=1, elem_id="send")
                gr.Examples(EXAMPLES, inputs=[box], label="Try")
                with gr.Accordion("What I remember about you", open=True, elem_id="memory-panel"):
                    memory = gr.HTML(css_template=PANEL_CSS, js_on_load=None, elem_id="memory")
                    forget = gr.Button("Forget me", variant="stop", size="sm", elem_id="forget")
                with gr.Accordion("Trace: which steps ran, and how long each took", open=False, elem_id="trace-panel"):
                    trace = gr.HTML(trace_html(None), css_template=PANEL_CSS, js_on_load=None, elem_id="trace")
            with gr.Column(scale=6, min_width=420):
                gr.Markdown("### Recommendations")
                empty = gr.Markdown("_Ask for something and the picks show up here._", elem_id="no-cards")
                rows, cards, likes, dislikes = [], [], [], []
                for i in range(slots):
                    with gr.Row(visible=False, equal_height=False, elem_id=f"slot-{i}") as row:
                        with gr.Column(scale=6, min_width=260):
                            cards.append(gr.HTML(css_template=CARD_CSS, js_on_load=None, elem_id=f"card-{i}"))
                        with gr.Column(scale=1, min_width=90):
                            likes.append(gr.Button("Like", size="sm", elem_id=f"like-{i}"))
                            dislikes.append(gr.Button("Dislike", size="sm", elem_id=f"dislike-{i}"))
                    rows.append(row)

        def memory_panel(user_id: str) -> str:
            try:
                return memory_html(rec.memories(user_id))
            except Exception as e:  # noqa: BLE001 - the page must work even when memory cannot be read
                log.exception("reading memory failed for %s", user_id)
                return f'<p class="muted">{html.escape(_failure(e))}</p>'

        def show_cards(shown: list[dict]) -> dict:
            out: dict = {items: shown, empty: gr.update(visible=not shown)}
            for i in range(slots):
                visible = i < len(shown)
                out[rows[i]] = gr.update(visible=visible)
                out[cards[i]] = card_html(i + 1, shown[i]) if visible else ""
            return out

        def start(pick: str | None, saved: dict | None, greeting: str, request: gr.Request) -> dict:
            """A fresh session for the picked user: empty chat and cards, memory panel refreshed."""
            user_id, pick, saved = resolve(pick, saved, request)
            return {browser: saved, picker: pick, user: user_id, session: rec.new_session(),
                    info: user_info(user_id, pick), memory: memory_panel(user_id), trace: trace_html(None),
                    chatbot: [{"role": "assistant", "content": greeting}] if greeting else [], **show_cards([])}

        everything = [browser, picker, user, session, info, memory, trace, chatbot, items, empty, *rows, *cards]

        def on_load(saved, request: gr.Request):
            return start((saved or {}).get("pick"), saved, "", request)

        def on_pick(pick, saved, request: gr.Request):
            return start(pick, saved, "", request)

        def on_new_session(pick, saved, request: gr.Request):
            return start(pick, saved, "New session started. I still remember what's in the memory panel.", request)

        def on_forget(user_id, pick, saved, request: gr.Request):
            user_id = acting(user_id, request)
            try:
                n = rec.forget(user_id)
            except Exception as e:  # noqa: BLE001
                log.exception("forget failed for %s", user_id)
                return {chatbot: [{"role": "assistant", "content": _failure(e)}]}
            return start(pick, saved, f"Forgotten: {n} memories deleted, and a new session started.", request)

        def add_message(message, chat):
            message = (message or "").strip()
            if not message:
                return gr.update(), chat, ""
            return "", [*chat, {"role": "user", "content": message}], message

        def respond(message, chat, user_id, session_id, shown, request: gr.Request):
            if not message:
                return {chatbot: chat}
            user_id = acting(user_id, request)
            t0 = time.perf_counter()
            try:
                reply = rec.chat(user_id, message, session_id=session_id)
            except Exception as e:  # noqa: BLE001 - the chat says what failed, never a traceback
                if not isinstance(e, (ValueError, TypeError)):
                    log.exception("chat failed for %s", user_id)
                return {chatbot: _say(chat, _failure(e))}
            log.info("turn user=%s items=%d %.0f ms", user_id, len(reply.items), 1000 * (time.perf_counter() - t0))
            out = {chatbot: _say(chat, reply_markdown(reply)), trace: trace_html(reply),
                   memory: memory_panel(user_id)}  # the turn may have remembered something
            if reply.items:  # a question leaves the last list up: it is still what we recommend
                out.update(show_cards([{**i.model_dump(), "vote": None} for i in reply.items]))
            return out

        def vote(slot: int, liked: bool):
            def handler(shown, chat, user_id, session_id, request: gr.Request):
                if slot >= len(shown):
                    return {chatbot: chat}
                user_id = acting(user_id, request)
                item = dict(shown[slot])
                try:
                    rec.feedback(user_id, item["item_id"], liked, session_id=session_id)
                except Exception as e:  # noqa: BLE001
                    if not isinstance(e, (ValueError, TypeError)):
                        log.exception("feedback failed for %s", user_id)
                    return {chatbot: _say(chat, _failure(e))}
                item["vote"] = "like" if liked else "dislike"
                shown = [*shown[:slot], item, *shown[slot + 1:]]
                label = f"{item['title']} ({item['year']})" if item.get("year") else item["title"]
                note = (f"Noted: you {'like' if liked else 'dislike'} {label}. "
                        "It's in your memory and shapes my next answer.")
                return {items: shown, cards[slot]: card_html(slot + 1, item), memory: memory_panel(user_id),
                        chatbot: _say(chat, note)}
            return handler

        private = {"api_visibility": "private"}
        demo.load(on_load, [browser], everything, **private)
        picker.input(on_pick, [picker, browser], everything, **private)
        new_session.click(on_new_session, [picker, browser], everything, **private)
        forget.click(on_forget, [user, picker, browser], everything, **private)
        for trigger in (box.submit, send.click):
            trigger(add_message, [box, chatbot], [box, chatbot, pending], queue=False, **private).then(
                respond, [pending, chatbot, user, session, items], [chatbot, trace, memory, *everything[8:]], **private)
        for i in range(slots):
            for button, liked in ((likes[i], True), (dislikes[i], False)):
                button.click(vote(i, liked), [items, chatbot, user, session],
                             [items, cards[i], memory, chatbot], **private)

        def recommend(user_id: str, message: str, session_id: str = "", request: gr.Request = None) -> dict:
            """One turn for ``user_id`` (an ml-100k id or any name): the reply with its items and trace."""
            if auth is not None and user_id != signed_in(request):
                raise gr.Error("you may only act as your own user")
            return rec.chat(user_id, message, session_id=session_id or None).model_dump()

        gr.api(recommend, api_name="recommend")
    # ConvRec is thread-safe (one lock per session): let several browsers be answered at once
    demo.queue(default_concurrency_limit=4)
    return demo
