"""The simulated-evaluation protocols, one registry: who the agent thinks it talks to, what was said
in an earlier session, and which users take part. The runner, the settings and the CLI read it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evals.simulator import Persona


def known_user_id(persona: Persona) -> str:
    """The persona's own ml-100k id: the agent knows its history."""
    return str(persona.user_id)


def cold_user_id(persona: Persona) -> str:
    """An id the agent has never seen: opaque (no ml-100k id in it), not the two-session protocols'."""
    return "new-" + hashlib.sha256(f"new-user-{persona.user_id}".encode()).hexdigest()[:12]


def fresh_user_id(persona: Persona) -> str:
    """The id of the two-session protocols (memory, drift): opaque too, apart from the cold-user one."""
    return "sim-" + hashlib.sha256(f"two-sessions-{persona.user_id}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Protocol:
    name: str
    description: str
    user_id: Callable[[Persona], str]  # the id the persona speaks under
    # the earlier sessions' script, played in the simulator's own words (its module's
    # ``earlier_sessions``: "lately", "stale", "mood"); the session after them is scored
    earlier: str | None = None
    cold_targets: bool = False  # only users whose target is a cold item (artifacts built with cold items)


PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (
    Protocol("standard", "each ml-100k user after its target; its id brings its history", known_user_id),
    Protocol("memory", "session 1 talks about the films watched lately (the last of the train history), rejects a "
             "genre and says which shown films it saw and liked or not; session 2, days later, opens as a stranger "
             "would and is scored", fresh_user_id, "lately"),
    Protocol("stale", "session 1 says it loves a genre (one the target lacks), session 2 takes it back; session 3 "
             "opens as a stranger would and is scored (the genre must not come back)", fresh_user_id, "stale"),
    Protocol("drift", "session 1 asks for another genre and critiques one of the target's for the day; "
             "session 2 is scored", fresh_user_id, "mood"),
    Protocol("cold-user", "the standard users and targets under an id the agent has never seen "
             "(no history, no memory)", cold_user_id),
    Protocol("cold", "users whose target is a cold item; needs artifacts built with CONVREC_COLD_ITEMS>0",
             known_user_id, cold_targets=True),
)}  # fmt: skip
