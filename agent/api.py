"""The public Python API: ``ConvRec.load()`` then ``chat``, ``feedback``, ``memories``, ``forget``."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from langgraph.types import Overwrite

from agent.graph import build_graph
from agent.nodes import Toolbox, final_reply
from agent.questions import QuestionPolicy
from agent.state import Reply, SessionPrefs, TurnError, state_models
from agent.vocabulary import RAW_MESSAGE
from tools.artifacts import Artifacts
from tools.config import Config
from tools.recommend import RECENT_LAST, Recommender
from tools.retrievers import CFRetriever, ItemIndex, SemanticRetriever
from tools.text import TextEncoder

log = logging.getLogger(__name__)
APOLOGY = "Sorry, something went wrong on my side; please try again or rephrase."
# The full agent, its ablations and the baselines: one graph, parts switched off.
SYSTEMS: dict[str, dict[str, bool]] = {
    "agent": {},
    "agent-no-memory": {"use_memory": False},
    "agent-no-rerank": {"use_reranker": False},
    # ask or recommend (issue 23): the agent with its question policy on, and off
    "agent-ask": {"ask": True},
    "agent-no-ask": {"ask": False},
    "agent-llm": {"use_llm": True},  # the agent with the LLM planner (needs CONVREC_LLM_*)
    # baselines: no reranker (it is built on CF vectors) and, for the dialogue-blind ones, no
    # memory (it would carry what was said back into them)
    # the dialogue's hard constraints (genres, years, popularity, exclusions), ranked by popularity
    # (no baseline asks questions: asking is the agent's)
    "constraints-pop": {"use_cf": False, "use_text": False, "use_reranker": False, "use_memory": False, "ask": False},
    # the same constraints in a seeded random order: what the small catalog gives with no ranking at all
    "constraints-random": {"use_cf": False, "use_text": False, "use_reranker": False, "use_memory": False,
                           "random_order": True, "ask": False},
    # dialogue + text retrieval, no collaborative signal
    "content": {"use_cf": False, "use_reranker": False, "ask": False},
    "cf": {"use_dialogue": False, "use_text": False, "use_reranker": False, "use_memory": False},
    "pop": {"use_dialogue": False, "use_text": False, "use_cf": False, "use_reranker": False, "use_memory": False},
}


class TurnFailed(RuntimeError):
    """A turn failed inside the agent (``chat(..., raise_errors=True)``); nothing of it was stored."""


class ConvRec:
    """A conversational recommender over one artifacts build. Thread-safe; one instance serves all users."""

    def __init__(self, artifacts: Artifacts, config: Config, *, system: str = "agent",
                 use_memory: bool = True, use_reranker: bool = True, use_llm: bool | None = None,
                 checkpointer=None, history_upto: str = "valid"):
        from agent.understand import OfflineUnderstander
        from memory import PreferenceMemory, open_checkpointer

        if system not in SYSTEMS:
            raise ValueError(f"unknown system {system!r}; choose from {sorted(SYSTEMS)}")
        flags = {"use_memory": use_memory, "use_reranker": use_reranker, "use_cf": True, "use_text": True,
                 "use_dialogue": True, "use_llm": use_llm, "random_order": False, "ask": config.ask_questions,
                 **SYSTEMS[system]}
        if flags["use_llm"] and not config.llm_enabled:
            raise ValueError(f"{system!r} with the LLM planner needs CONVREC_LLM_BASE_URL and CONVREC_LLM_MODEL")
        use_memory, use_reranker = flags["use_memory"], flags["use_reranker"]
        self.system, self.config, self.artifacts = system, config, artifacts
        t0 = time.perf_counter()
        import torch
        from threadpoolctl import threadpool_limits

        # serving: small per-turn work; oversubscribed BLAS/OpenMP threads spin-wait (see Config)
        torch.set_num_threads(config.torch_threads)
        threadpool_limits(config.torch_threads)
        encoder = TextEncoder()
        encoder.encode_one("warm up")  # load the text model now, not inside the first turn
        index = ItemIndex(artifacts.split.item_ids)
        split = artifacts.split
        # a known user's history: everything before the test item ("valid"), or only the train
        # part ("train") when simulated users are after their validation item (tuning)
        if history_upto not in ("train", "valid"):
            raise ValueError("history_upto must be 'train' or 'valid'")
        histories = {
            str(int(split.user_ids[u])): [int(split.item_ids[i]) for i in seq]
            for u, seq in enumerate(split.sequences(history_upto))
        }
        self.memory = PreferenceMemory.from_config(config, encoder) if use_memory else None
        recommender = Recommender(
            artifacts.catalog, index, CFRetriever(artifacts.selected_cf, index),
            SemanticRetriever(artifacts.item_vectors, index, encoder), split.item_popularity(),
            reranker=artifacts.reranker if use_reranker else None, n_candidates=config.candidates,
            recent=split.recent_popularity(RECENT_LAST), rerank_shares=config.rerank_shares,
            order=np.random.default_rng(config.seed).random(split.n_items) if flags["random_order"] else None,
        )
        self.tools = Toolbox(
            recommender=recommender,
            understander=OfflineUnderstander(artifacts.catalog),
            histories=histories,
            memory=self.memory,
            planner=_llm_planner(config, artifacts) if flags["use_llm"] is not False else None,
            use_cf=flags["use_cf"],
            use_text=flags["use_text"],
            use_dialogue=flags["use_dialogue"],
            questions=QuestionPolicy(**{**config.question_policy, "enabled": flags["ask"] and flags["use_dialogue"]}),
            k=config.k,
        )
        if self.tools.planner is not None and config.llm_warm_seconds > 0:
            took = self.tools.planner.warm(config.llm_warm_seconds, SessionPrefs())
            if took is not None:
                log.info("LLM planner warmed in %.1fs", took)
        self._owns_checkpointer = checkpointer is None
        self.checkpointer = checkpointer if checkpointer is not None else open_checkpointer(config, state_models())
        self.graph = build_graph(self.tools, self.checkpointer)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.load_seconds = round(time.perf_counter() - t0, 3)
        log.info("ConvRec[%s] ready in %.2fs (cf=%s, memory=%s, reranker=%s, llm=%s)", system, self.load_seconds,
                 artifacts.manifest["cf"]["selected"], use_memory, recommender.reranker is not None,
                 self.tools.planner is not None)

    @classmethod
    def load(cls, artifacts: str | Path | None = None, config: Config | None = None, **kwargs) -> ConvRec:
        """Load verified artifacts (default: the config's folder). Raises ArtifactError with a fix."""
        config = config or Config()
        path = Path(artifacts) if artifacts is not None else config.artifacts_dir
        return cls(Artifacts.load(path, config if artifacts is None else None), config, **kwargs)

    # ---- conversation -------------------------------------------------------------------------
    def chat(self, user_id: str, message: str, session_id: str | None = None, *,
             raise_errors: bool = False) -> Reply:
        """One turn. Never raises for bad messages: the reply says what went wrong; one over
        ``MAX_MESSAGE`` characters is read that far. A failure inside the turn is caught, logged and
        flagged (``Reply.error``); with ``raise_errors`` (servers, tests) it raises ``TurnFailed``."""
        user_id = _check_user(user_id)
        session_id = _check_session(session_id)
        if not isinstance(message, str):
            raise TypeError(f"message must be a str, not {type(message).__name__}")
        message = message[:RAW_MESSAGE]  # the understander reads MAX_MESSAGE of it and says so
        thread = {"configurable": {"thread_id": f"{user_id}\x1f{session_id}"}}
        # what the last turn left is reset; trace and notes add up within a turn, so they start afresh
        turn = {"user_id": user_id, "session_id": session_id, "message": message, "trace": Overwrite([]),
                "notes": Overwrite([]), "turn": None, "ranked": [], "question": None, "reply": None, "llm": None}
        with self._lock_for(thread["configurable"]["thread_id"]):
            try:
                # one checkpoint write per turn (at its end) instead of one per node
                state = self.graph.invoke(turn, thread, durability="exit")
            except Exception as e:  # noqa: BLE001 - a turn must end in a reply, never a traceback
                if raise_errors:
                    raise TurnFailed(f"{type(e).__name__}: {e}") from e
                log.exception("turn failed for user=%s session=%s", user_id, session_id)
                return _failed(session_id, "internal error")
        reply = final_reply(state)
        outside = [i.item_id for i in reply.items if not self.in_catalog(i.item_id)]
        if outside:  # an invariant, checked for real (``assert`` would vanish under ``python -O``)
            log.error("items outside the catalog reached a reply for user=%s session=%s: %s",
                      user_id, session_id, outside)
            if raise_errors:
                raise TurnFailed(f"items outside the catalog reached a reply: {outside}")
            return _failed(session_id, "outside catalog", dropped=len(outside))
        return reply

    def new_session(self) -> str:
        return uuid.uuid4().hex[:12]

    def broken_constraints(self, user_id: str, session_id: str | None, item_ids: Sequence[int]) -> int:
        """How many of ``item_ids`` (a list shown) break the session's plain constraints: its genres,
        excluded genres and years. 0 for systems that ignore the dialogue."""
        if not item_ids or not self.tools.use_dialogue:
            return 0
        flt = self.session(user_id, session_id).constraints.lifted("popularity").to_filter(self.tools.recommender)
        return sum(not ok for ok in self.tools.catalog.satisfies(list(item_ids), flt))

    def session(self, user_id: str, session_id: str | None = None) -> SessionPrefs:
        """What a session has established so far (from the checkpointer)."""
        cfg = {"configurable": {"thread_id": f"{_check_user(user_id)}\x1f{_check_session(session_id)}"}}
        snapshot = self.graph.get_state(cfg)
        return SessionPrefs.model_validate(snapshot.values.get("session") or {})

    # ---- the catalog ---------------------------------------------------------------------------
    def in_catalog(self, item_id: object) -> bool:
        """Whether ``item_id`` is an item of this build's catalog."""
        return item_id in self.tools.catalog

    @property
    def catalog_size(self) -> int:
        """How many items the catalog holds."""
        return len(self.tools.catalog)

    # ---- who is known -------------------------------------------------------------------------
    def known_users(self) -> list[str]:
        """Ids of users with an interaction history in the data (ml-100k users), in id order."""
        return sorted(self.tools.histories, key=lambda u: (not u.isdigit(), int(u) if u.isdigit() else 0, u))

    def history(self, user_id: str, n: int | None = None) -> list:
        """A known user's past items (catalog ``Item``s), most recent first; [] for a new user."""
        ids = self.tools.histories.get(_check_user(user_id), [])
        ids = list(reversed(ids))[: n if n is not None else len(ids)]
        return self.tools.catalog.get(ids)

    def history_size(self, user_id: str) -> int:
        return len(self.tools.histories.get(_check_user(user_id), []))

    # ---- long-term memory ---------------------------------------------------------------------
    def feedback(self, user_id: str, item_id: int, liked: bool, session_id: str | None = None):
        """Record a like or dislike of a catalog item; the next answer takes it into account."""
        from memory import MemoryRecord

        user_id = _check_user(user_id)
        if self.memory is None:
            raise RuntimeError("this ConvRec was loaded without memory; feedback cannot be stored")
        if not self.in_catalog(item_id):
            raise ValueError(f"item {item_id!r} is not in the catalog")
        item = self.tools.catalog.get([int(item_id)])[0]
        return self.memory.add(MemoryRecord(
            user_id=user_id, kind="like" if liked else "dislike", item_id=item.item_id,
            text=f"{'likes' if liked else 'dislikes'} {item.label}", session_id=session_id,
        ))  # fmt: skip

    def memories(self, user_id: str) -> list:
        """Every record remembered about a user (``memory.MemoryRecord``: id, kind, text, time), oldest first."""
        return [] if self.memory is None else self.memory.all(_check_user(user_id))

    def forget_memory(self, user_id: str, memory_id: str) -> bool:
        """Delete one remembered record of a user; False when the user has no record with that id."""
        return False if self.memory is None else self.memory.delete(_check_user(user_id), memory_id)

    def forget(self, user_id: str) -> int:
        """Delete everything remembered about a user (long-term memory)."""
        return 0 if self.memory is None else self.memory.forget(_check_user(user_id))

    def health(self) -> dict[str, str]:
        """One cheap read of dialogue state and of memory: ``"ok"`` or the error, per part."""
        checks = {"state": lambda: self.checkpointer.get_tuple(
            {"configurable": {"thread_id": "healthz\x1fhealthz", "checkpoint_ns": ""}})}
        if self.memory is not None:
            checks["memory"] = lambda: self.memory.count("healthz")
        out = {}
        for part, check in checks.items():
            try:
                check()
                out[part] = "ok"
            except Exception as e:  # noqa: BLE001 - reported, not raised
                out[part] = f"{type(e).__name__}: {e}"[:300]
        return out

    def close(self) -> None:
        if self._owns_checkpointer and hasattr(self.checkpointer, "conn"):
            self.checkpointer.conn.close()

    def _lock_for(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())


def _failed(session_id: str, error: TurnError, dropped: int = 0) -> Reply:
    """The reply of a turn the guard caught: an apology, flagged (``Reply.error``), nothing shown."""
    return Reply(text=APOLOGY, session_id=session_id, warnings=["internal error (logged)"], error=error,
                 dropped_outside_catalog=dropped)


def _check_user(user_id: str) -> str:
    # the one id check lives with the memory; imported here because memory loads chromadb
    from memory.preferences import check_user_id

    return check_user_id(user_id)


def _check_session(session_id: str | None) -> str:
    from memory.preferences import check_user_id

    return "default" if session_id is None else check_user_id(session_id, name="session_id")


def _llm_planner(config: Config, artifacts: Artifacts):
    if not config.llm_enabled:
        return None
    from agent.llm import LLMClient
    from agent.planner import LLMPlanner

    return LLMPlanner(LLMClient(config), artifacts.catalog, config.llm_planner, config.llm_max_tool_calls)
