"""Tones and moods ("not sappy", "something light", "I'm bored"): one table, read by the
understander (the phrases) and by the ranking (the genres each tone leans towards or away from).

A tone is a soft preference, never a filter: a wanted tone lifts films of its ``up`` genres and
lowers its ``down`` ones; a tone not wanted ("nothing too dark") lowers its ``up`` genres only
(not being dark says nothing for or against comedy). What was understood is said back in the reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Tone:
    name: str
    phrases: str  # a regex alternation over the lowercased message
    up: tuple[str, ...] = ()  # catalog genres the tone leans towards
    down: tuple[str, ...] = ()  # catalog genres it leans away from


TONES: tuple[Tone, ...] = (
    Tone("feel-good", r"feel[- ]?good|uplifting|heart[- ]?warming|wholesome|cheer (?:me|us) up|happy ending|co[sz]y|comforting"
                      r"|comfort (?:movies?|films?|watch(?:ing)?)",
         up=("Comedy", "Musical", "Children's", "Romance"), down=("Horror", "Film-Noir", "War", "Crime")),
    Tone("light", r"light(?:er|[- ]?hearted)?|easy(?:[- ]going| watching| to watch)?|breezy|fluffy|not too heavy|fun|cute|charming"
                  r"|nothing (?:too )?(?:heavy|serious)|not (?:too )?serious|chill|mindless|turn my brain off|brain off",
         up=("Comedy", "Animation", "Children's", "Musical", "Adventure"), down=("War", "Horror", "Film-Noir", "Crime")),
    Tone("funny", r"funny|hilarious|laugh(?:s|ing)?|comedic|witty|silly|goofy|zany|wacky|satir(?:e|es|ical)|tongue[- ]in[- ]cheek",
         up=("Comedy",)),
    Tone("dark", r"dark(?:er)?|bleak(?:er)?|gritty|grittier|grim(?:mer)?|disturbing|twisted|sinister",
         up=("Film-Noir", "Crime", "Thriller", "Horror"), down=("Children's", "Musical", "Animation")),
    Tone("sad", r"sad(?:der)?|depressing|downers?|tear[- ]?jerkers?|makes? (?:me|us|you) cry|cry(?:ing)?|weepy|emotional|moving|heavy"
                r"|touching|poignant|bittersweet",
         up=("Drama", "War", "Romance"), down=("Comedy",)),
    Tone("sappy", r"sappy|cheesy|corny|mushy|schmaltzy|saccharine|sentimental|sugary|chick[- ]?flicks?|rom[- ]?coms?",
         up=("Romance", "Musical")),
    Tone("romantic", r"romantic|love stor(?:y|ies)|swoon\w*",
         up=("Romance",)),
    Tone("intense", r"intense|gripping|edge[- ]of[- ](?:my|your|our|the)[- ]seat|suspenseful|tense|nail[- ]?biting"
                    r"|keeps? (?:me|us|you) (?:guessing|hooked|on edge)|white[- ]knuckle|pulse[- ]pounding|riveting",
         up=("Thriller", "Action", "War", "Crime"), down=("Children's", "Musical", "Comedy")),
    Tone("scary", r"scary|scarier|scared|creepier|scare (?:me|us)|creepy|spooky|terrifying|frightening|chilling|keep me up at night",
         up=("Horror", "Thriller")),
    Tone("violent", r"violent|violence|gory|gore|bloody|brutal|graphic",
         up=("Action", "Crime", "War", "Horror")),
    Tone("gross", r"gross(?:[- ]out)?|disgusting|crude|raunchy|vulgar|toilet humou?r",
         up=("Horror",)),
    Tone("mind-bending", r"mind[- ]?(?:bending|blowing|boggling|fuck\w*)|trippy|twisty|plot twists?|surreal"
                         r"|puzzle",
         up=("Sci-Fi", "Mystery", "Thriller", "Fantasy")),
    Tone("slow", r"slow(?:[- ]?(?:paced|burn|moving))?|meditative|quiet",
         up=("Drama", "Film-Noir", "Documentary"), down=("Action",)),
    Tone("exciting", r"exciting|action[- ]?packed|thrilling|fast[- ]?paced|adrenaline|fun ride|(?:i'?m|i am|we'?re|so) bored"
                     r"|boring day|nothing to do|kill (?:some )?time|entertain (?:me|us)",
         up=("Action", "Adventure", "Thriller", "Sci-Fi"), down=("Documentary",)),
    Tone("thoughtful", r"thought[- ]?provoking|thoughtful|cerebral|deep|smart|intelligent|philosophical|profound|makes? (?:me|you|us) think",
         up=("Drama", "Documentary", "Film-Noir"), down=("Action",)),
    Tone("quirky", r"quirky|offbeat|weird|odd|strange|unusual|eccentric|indie",
         up=("Comedy", "Fantasy")),
)

BY_NAME: dict[str, Tone] = {t.name: t for t in TONES}
TONE_RES: tuple[tuple[Tone, re.Pattern], ...] = tuple(
    (t, re.compile(rf"(?<![\w-])(?:{t.phrases})(?![\w-])")) for t in TONES)


# A film for children leans to the genres made for them, as a tone does: a soft prior, never a filter
# ("something like Star Wars for my 10-year-old" stays possible; the filter keeps out adult films).
FOR_CHILDREN = ("Children's", "Animation")


def genre_leaning(tone: list[str], tone_none: list[str], audience: str | None = None) -> dict[str, float]:
    """Catalog genre -> how much the tones wanted and not wanted, and the audience, lean towards it (-1..1)."""
    lean: dict[str, float] = {g: 1.0 for g in FOR_CHILDREN} if audience == "children" else {}
    for name in tone:
        for g in BY_NAME[name].up:
            lean[g] = lean.get(g, 0.0) + 1.0
        for g in BY_NAME[name].down:
            lean[g] = lean.get(g, 0.0) - 1.0
    for name in tone_none:
        for g in BY_NAME[name].up:
            lean[g] = lean.get(g, 0.0) - 1.0
    return {g: max(-1.0, min(1.0, v)) for g, v in lean.items() if v}


def describe(tone: list[str], tone_none: list[str]) -> str:
    """In words: 'leaning light and feel-good, nothing sappy'."""
    parts = []
    if tone:
        parts.append("leaning " + " and ".join(tone))
    if tone_none:
        parts.append("nothing " + " or ".join(tone_none))
    return ", ".join(parts)
