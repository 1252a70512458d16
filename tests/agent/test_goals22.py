"""Issue 22's goals, checked end to end through the public API (``ConvRec.chat``) on the small real build.

Written by an independent checker from the issue's wording, not from the understander's code: the
phrasings below are people's words, not the vocabulary's. The one reach past the API is the catalog
(``rec.tools.catalog.get``), read only to know a listed film's MPAA rating, director or runtime.

1. Audience: a child's films are never in an adult genre nor rated R/NC-17, over 5 tempting turns;
   lifting it ("the kids are asleep") gives adult films back; adults' audiences are not children.
2. Reasons from evidence: a text reason (close to “...”) quotes only words the film's knowledge holds.
3. A list or a reason why: a turn asking for something the catalog can serve gets a list, or says
   why not and what would work; "Title (Year)" is a film, never a year constraint.
4. People and ratings filter correctly where the metadata exists (director, MPAA rating, runtime).
5. Seen it: a film the person has seen is not shown again in the next 3 turns.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from pathlib import Path

import pytest

from tools.catalog import Item

ADULT_GENRES = {"Horror", "Crime", "Thriller", "Film-Noir"}
ADULT_RATINGS = {"R", "NC-17"}
MILDEST_FIRST = ["G", "PG", "PG-13", "R", "NC-17"]
DEVSET_TUNE = Path(__file__).parent / "devset" / "tune.jsonl"


def new_user() -> str:
    return "g22-" + uuid.uuid4().hex[:10]


def meta(rec, item_id: int) -> Item:
    """The catalog's record of a listed film (for checking only)."""
    return rec.tools.catalog.get([item_id])[0]


def show(reply) -> str:
    """A reply in a few words, for failure messages."""
    if reply.error:
        return f"error={reply.error!r}: {reply.text[:160]!r}"
    listed = ", ".join(f"{i.label} {i.genres}" for i in reply.items[:6])
    return f"{reply.text[:200]!r} [{len(reply.items)} items: {listed}{' ...' if len(reply.items) > 6 else ''}]"


# ---------------------------------------------------------------------------------------------
# 1. Audience
# ---------------------------------------------------------------------------------------------

CHILDREN_OPENERS = [
    "something for my kids to watch",
    "a movie for my 8-year-old",
    "my son is 6, what can he watch?",
    "family movie night with the little ones",
    "something for my nephew who's 9",
    "a film my toddler won't get scared by",
    "the grandkids are coming over this weekend, any ideas?",
    "we're hosting a children's birthday party and need a film to put on",
    "a movie for a 10 year old girl",
    "an adventure movie my 7 yr old would like",
    "my daughter is five and she loves animals",
    "cartoons for the kids please",
    "something the whole family can watch, youngest is 4",
    "films from the 80s for my kids",
    "my twins just turned 8, something like Toy Story",
    "babysitting my niece tonight, she's six",
    "a comedy that's ok for children",
    "kid-friendly sci-fi",
    "what's a good mystery for an 11 year old?",
    "my little brother is 9 and wants an action film",
    "something for a sleepover with a bunch of 10-year-olds",
    "a classic from the 60s to show my grandchildren",
    "school holidays, need something to keep the children busy",
    "a musical for my little girl",
    "rainy afternoon at home with a 3 year old",
    "the kids want something spooky but they're only 7",
    "a film for my class of second graders",
    "movie for my 12-year-old son who loves westerns",
    "I need something my boys (6 and 8) will both sit through",
    "a film like The Lion King for my kindergartener",
    "anything suitable for young kids from the 90s",
    "looking after my godson, he's 9 and crazy about space",
    "preschool-friendly movies",
    "a fantasy film my child can watch",
]
# the follow-ups that tempt adult films; conversation i takes 5 in a row from position i
TEMPTING_FOLLOW_UPS = [
    "something more exciting",
    "what about a thriller?",
    "any good mysteries?",
    "older ones",
    "more like the second one",
    "something scarier",
    "crime stories?",
    "show me popular ones",
    "seen all of those",
    "a film noir maybe?",
    "what about horror then",
]
FOLLOW_UPS_PER_CONVERSATION = 5


def children_conversation(i: int) -> list[str]:
    n = len(TEMPTING_FOLLOW_UPS)
    return [CHILDREN_OPENERS[i]] + [TEMPTING_FOLLOW_UPS[(i + k) % n] for k in range(FOLLOW_UPS_PER_CONVERSATION)]


def adult_reasons(rec, reply) -> list[str]:
    """Why each listed film is not for a child: an adult genre, or an R/NC-17 rating (where known)."""
    bad = []
    for it in reply.items:
        known = meta(rec, it.item_id)
        genres = ADULT_GENRES & (set(it.genres) | set(known.genres))
        rating = getattr(known, "mpaa", None)
        if genres or rating in ADULT_RATINGS:
            bad.append(f"{it.label} adult genres={sorted(genres)} mpaa={rating}")
    return bad


def test_children_table_is_big_enough():
    assert len(set(CHILDREN_OPENERS)) >= 30
    assert all(len(set(children_conversation(i))) == 1 + FOLLOW_UPS_PER_CONVERSATION
               for i in range(len(CHILDREN_OPENERS)))


@pytest.mark.parametrize("i", range(len(CHILDREN_OPENERS)), ids=lambda i: CHILDREN_OPENERS[i][:40])
def test_films_for_children_are_never_adult_films(small_rec, i):
    user = new_user()
    for message in children_conversation(i):
        reply = small_rec.chat(user, message)
        assert reply.error is None, f"{message!r} -> {show(reply)}"
        bad = adult_reasons(small_rec, reply)
        assert not bad, f"{CHILDREN_OPENERS[i]!r} ... {message!r} -> not for a child: {bad}"


LIFTS = [
    "actually it's just me tonight, the kids are asleep",
    "forget the kids, this is for adults now",
    "ok the children went to bed, grown-up films please",
]


@pytest.mark.parametrize("lift", LIFTS)
def test_lifting_the_children_audience_gives_adult_films_back(small_rec, lift):
    user = new_user()
    first = small_rec.chat(user, "a movie for my kids")
    assert first.error is None and not adult_reasons(small_rec, first), show(first)
    lifted = small_rec.chat(user, lift)
    assert lifted.error is None, show(lifted)
    reply = small_rec.chat(user, "a crime thriller")
    assert reply.error is None, show(reply)
    assert any({"Crime", "Thriller"} & set(i.genres) for i in reply.items), \
        f"after {lift!r}, 'a crime thriller' -> {show(reply)}"


ADULT_AUDIENCES = [
    ("a horror movie for date night", "Horror"),
    ("date night with my wife, we love a good thriller", "Thriller"),
    ("watching with my parents tonight, they're into crime films", "Crime"),
    ("my husband and I want a scary horror film", "Horror"),
    ("movie night with my roommates, we want a thriller", "Thriller"),
    ("visiting my grandparents, they like film noir", "Film-Noir"),
    ("a crime movie to watch with my dad", "Crime"),
]


@pytest.mark.parametrize(("message", "genre"), ADULT_AUDIENCES)
def test_adult_audiences_are_not_children(small_rec, message, genre):
    reply = small_rec.chat(new_user(), message)
    assert reply.error is None, show(reply)
    assert reply.items, f"{message!r} -> {show(reply)}"
    off = [i.label for i in reply.items if genre not in i.genres]
    assert not off, f"{message!r} asked for {genre}, got {off}"


# ---------------------------------------------------------------------------------------------
# 2. Reasons from evidence
# ---------------------------------------------------------------------------------------------

QUOTED = re.compile(r"close to\s*[\u201c\"]([^\u201d\"]*)[\u201d\"]", re.IGNORECASE)
KNOWLEDGE_FIELDS = ("director", "mpaa", "creative_type", "source")


def words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.findall(r"[a-z0-9]+", text.replace("'", ""))


def forms(word: str) -> set[str]:
    """A word compared case-insensitively after stripping a trailing 's' (and 'ies' for 'y')."""
    out = {word}
    if word.endswith("s") and len(word) > 1:
        out.add(word[:-1])
    if word.endswith("ies") and len(word) > 3:
        out.add(word[:-3] + "y")
    return out


def knowledge(item: Item) -> set[str]:
    """Every form of every word the catalog holds for a film: title, year, genres, and the metadata."""
    parts = [item.title, str(item.year or ""), " ".join(item.genres)]
    parts += [str(v) for f in KNOWLEDGE_FIELDS if (v := getattr(item, f, None))]
    return {f for w in words(" ".join(parts)) for f in forms(w)}


def text_reasons(rec, messages: list[str]) -> tuple[int, list[str]]:
    """Each message as the first of a fresh session: how many quoted text reasons came back, and
    every one quoting a word the film's knowledge lacks."""
    checked, bad = 0, []
    for message in messages:
        reply = rec.chat(new_user(), message)
        assert reply.error is None, f"{message!r} -> {show(reply)}"
        for it in reply.items:
            for phrase in QUOTED.findall(it.reason):
                checked += 1
                known = knowledge(meta(rec, it.item_id))
                absent = [w for w in words(phrase) if not forms(w) & known]
                if absent:
                    bad.append(f"{message!r} -> {it.label}: {it.reason!r} (absent: {absent})")
    return checked, bad


def devset_messages() -> list[str]:
    if not DEVSET_TUNE.is_file():
        return OWN_EVIDENCE_MESSAGES
    rows = [json.loads(line) for line in DEVSET_TUNE.read_text().splitlines() if line.strip()]
    return [row["message"] for row in rows]


# people's words: filler, names, numbers, small talk around a request
OWN_EVIDENCE_MESSAGES = [
    "hey there! my name is Sarah and I'm looking for a space adventure",
    "ok so me and Tom, we're both 30, want some action",
    "lol my cat just knocked over my coffee. anyway, a comedy?",
    "good evening. I would like a drama, please and thank you",
    "my boss Greg told me about some western, no idea which one",
    "hmm, I dunno, maybe something romantic? it's our 5th anniversary",
    "we're 3 friends with 2 bags of popcorn and zero ideas",
    "I'm Mike, 45, from Ohio, love war movies",
    "my therapist says I should laugh more, so something funny",
    "just got back from a 12 hour shift. anything relaxing",
    "Monday again... need a musical to cheer me up",
    "hi hi hi! sci-fi please!!!",
    "it's raining in London and I'm stuck inside, a mystery maybe",
    "my grandma Edith loved old movies from the 40s",
    "so my brother-in-law Kevin recommended a crime film but I forgot the name",
    "well, honestly, whatever, something good",
    "uh, I guess a thriller? my friend Priya liked one last week",
    "text from my sister: 'watch something scary!!' ok then horror",
    "We have exactly 97 minutes before the pizza arrives. Comedy.",
    "Friday night, 2 beers in, action movie time",
    "okay okay, animation, my roommate Jake insists",
    "I'm Ana and I really like documentaries about nature",
    "thanks for the last ones! now something from the 70s",
    "um, hello? is this thing on? a fantasy film",
    "our book club (7 people) wants a film based on a novel",
    "my partner Alex hates subtitles, so an American drama",
    "lazy sunday, a long epic war film would be perfect",
    "I've had the worst week of my life, something uplifting",
    "just finished my exams!!! celebrate with an adventure",
    "a friend from work, Dimitri, keeps talking about film noir",
    "honestly I'm tired of superheroes, how about a western",
    "pls recommend a romcom, kthx",
    "it's 2am and I can't sleep, something calm",
    "Hey! Long time no see. Got any good horror?",
    "my dad Frank is turning 70, he likes John Wayne",
    "ok second try: a comedy from the 80s",
    "we just moved to Seattle and the boxes can wait, a drama",
    "as a nurse I see enough drama, give me a comedy",
    "I teach 8th grade history, something about World War II for me",
    "the neighbours are loud again, a loud action movie then",
    "had sushi with Kate, now a romantic film to end the night",
    "no offence but the last app was useless. a good thriller",
    "my cousin Luis says the 90s were the best decade for movies",
    "I have 3 hours and a blanket, an epic adventure",
    "this is my first time using this, a classic please",
    "oh wow that's cool, so what about sci-fi from the 80s",
    "cheers mate, fancy a crime caper",
    "I'm 19 and bored out of my mind, surprise me with action",
    "Jenny and I are arguing: she wants romance, I want horror",
    "after 40 hours of work this week I need a silly comedy",
    "my phone is at 4% so quick: a mystery",
    "hello from Brazil! a musical please",
    "between you and me, I cry at every animated film",
    "Dr. Patel said rest, so a long drama it is",
    "we're snowed in, 2 adults 1 dog, anything cosy",
    "yeah no, not that. a documentary",
    "ok ok ok, sci-fi with robots",
    "so tired... a gentle romance",
    "birthday boy here (31 today), an action comedy",
    "my flatmate Omar wants a war film, I want a western, compromise?",
    "greetings, a film noir from the 1940s, if you'd be so kind",
    "wow, 5 stars for the last pick. more sci-fi",
]
# messages that name content words a film's title holds, so the text retriever has evidence to cite
CONTENT_WORD_MESSAGES = [
    "something about a wedding",
    "a movie with a dog",
    "films about baseball",
    "space adventure",
    "a story about a princess",
    "something with pirates",
    "movies about aliens",
    "a ghost story",
    "a vampire movie",
    "a film about a king",
    "a christmas movie",
    "something with a dinosaur park",
    "a film set in New York",
    "a story about a big city cop",
    "movies with monsters",
    "a film about the circus",
    "something about boxing",
    "a movie about a dragon",
]


def test_evidence_tables_are_big_enough():
    assert len(set(OWN_EVIDENCE_MESSAGES)) >= 60
    assert len(devset_messages()) >= 60


@pytest.mark.parametrize("source", ["devset", "own", "content-words"])
def test_text_reasons_cite_only_the_films_knowledge(small_rec, source):
    messages = {"devset": devset_messages, "own": lambda: OWN_EVIDENCE_MESSAGES,
                "content-words": lambda: CONTENT_WORD_MESSAGES}[source]()
    checked, bad = text_reasons(small_rec, messages)
    print(f"[{source}] {len(messages)} messages, {checked} text reasons checked, {len(bad)} citing absent words")
    assert not bad, f"{len(bad)} of {checked} text reasons cite words the film's knowledge lacks:\n" + "\n".join(bad[:15])
    if source == "content-words":  # the check must not be empty
        assert checked > 0, "no text reason at all over messages naming content words of titles"


# ---------------------------------------------------------------------------------------------
# 3. A list or a reason why
# ---------------------------------------------------------------------------------------------

SERVABLE = [
    # genres
    "a western", "any good documentaries?", "I'm in the mood for a musical", "sci-fi please",
    "a war film", "romantic comedies", "film noir", "an animated movie", "a fantasy adventure",
    # eras
    "something from the 1930s", "films from the fifties", "a 70s crime movie",
    "movies made between 1980 and 1985", "an 80s action film", "something from 1998",
    "a drama from 1962", "old classics from before 1950",
    # moods
    "something funny to cheer me up", "I want a good cry", "something scary for tonight",
    "a feel-good movie", "something light and silly", "a tense edge-of-your-seat movie",
    # catalog films by name
    "Toy Story (1995)", "something like Fargo (1996)", "more like Star Wars (1977)",
    "I loved Casablanca (1942)", "anything similar to The Godfather (1972)?", "something like Jurassic Park",
    "I loved Titanic",
    # films newer than the catalog named as references
    "something like The Matrix (1999)", "I loved Inception", "The Sixth Sense (1999)",
    "we just watched Frozen, what next?", "anything like The Dark Knight (2008)?",
    # a person, with or without a genre (no cast data: a list, or why not and what works)
    "a Hitchcock thriller", "Spielberg adventure movies", "a comedy with Jim Carrey",
    "Tom Hanks movies?", "anything with Meryl Streep", "a western with John Wayne",
    # audience, popularity, acclaim, length
    "a movie for my 8-year-old", "the most popular films", "some hidden gems nobody has seen",
    "critically acclaimed dramas", "a comedy under 90 minutes",
]
WHY = ("can't", "cannot", "can not", "no film", "no films", "don't have", "do not have", "doesn't have",
       "only has", "only have", "not in the catalog", "isn't in", "aren't in", "don't know", "has no")
OFFER = re.compile(r"\bi can (filter|find|search|suggest|recommend|show|look)|\bsay\b|\btry\b|\binstead\b|"
                   r"\bfor example\b|\bhow about\b|\byou could\b")


def says_why_and_what_works(text: str) -> bool:
    text = text.lower().replace("\u2019", "'")
    return any(w in text for w in WHY) and bool(OFFER.search(text))


def test_servable_table_is_big_enough():
    assert len(set(SERVABLE)) >= 40


@pytest.mark.parametrize("message", SERVABLE)
def test_a_servable_request_gets_a_list_or_says_why(small_rec, message):
    reply = small_rec.chat(new_user(), message)
    assert reply.error is None, f"{message!r} -> {show(reply)}"
    assert reply.items or says_why_and_what_works(reply.text), \
        f"{message!r}: no list, and no reason why with what would work -> {show(reply)}"


TITLES_WITH_YEARS = [
    ("Toy Story (1995)", True),
    ("something like Fargo (1996)", True),
    ("Good Will Hunting (1997) was great, more like that", True),
    ("anything like Casablanca (1942)?", True),
    ("my favourite is Star Wars (1977)", True),
    ("The Sixth Sense (1999)", False),
    ("something like The Matrix (1999)", False),
    ("Fight Club (1999) vibes please", False),
    ("I loved Amelie (2001)", False),
]


@pytest.mark.parametrize(("message", "in_catalog"), TITLES_WITH_YEARS)
def test_a_title_with_its_year_is_no_year_constraint(small_rec, message, in_catalog):
    user = new_user()
    reply = small_rec.chat(user, message)
    assert reply.error is None, f"{message!r} -> {show(reply)}"
    asked = small_rec.session(user).constraints
    assert asked.year_min is None and asked.year_max is None, \
        f"{message!r} became a year constraint {asked.year_min}-{asked.year_max} -> {show(reply)}"
    if in_catalog:
        assert reply.items, f"{message!r} names a catalog film, yet no list -> {show(reply)}"
    else:
        assert reply.items or says_why_and_what_works(reply.text), f"{message!r} -> {show(reply)}"


# ---------------------------------------------------------------------------------------------
# 4. People and ratings, where the metadata exists
# ---------------------------------------------------------------------------------------------


def directed_by(name):
    def ok(item: Item) -> bool:
        return name in (getattr(item, "director", None) or "").lower()
    ok.__doc__ = f"directed by {name}"
    return ok


def rated_at_most(bound):
    def ok(item: Item) -> bool:
        rating = getattr(item, "mpaa", None)
        return rating is not None and MILDEST_FIRST.index(rating) <= MILDEST_FIRST.index(bound)
    ok.__doc__ = f"rated {bound} or milder (known)"
    return ok


def not_rated(bad):
    def ok(item: Item) -> bool:
        return getattr(item, "mpaa", None) != bad
    ok.__doc__ = f"not rated {bad}"
    return ok


def runtime_at_most(minutes):
    def ok(item: Item) -> bool:
        runtime = getattr(item, "runtime", None)
        return runtime is not None and runtime <= minutes
    ok.__doc__ = f"runtime known and <= {minutes}"
    return ok


# (the turns of a conversation, what every film of the last list must be, the genre it must have)
METADATA_FILTERS = [
    (["something by Steven Spielberg"], directed_by("spielberg"), None),
    (["a Hitchcock film"], directed_by("hitchcock"), None),
    (["anything directed by Stanley Kubrick"], directed_by("kubrick"), None),
    (["a Martin Scorsese movie"], directed_by("scorsese"), None),
    (["films by Tim Burton"], directed_by("burton"), None),
    (["a comedy", "only ones by Tim Burton"], directed_by("burton"), None),
    (["a PG-13 or milder comedy"], rated_at_most("PG-13"), "Comedy"),
    (["a comedy rated G or PG"], rated_at_most("PG"), "Comedy"),
    (["a 90s action movie", "nothing rated R"], not_rated("R"), "Action"),
    (["a thriller, but nothing rated R"], not_rated("R"), "Thriller"),
    (["a drama", "under two hours"], runtime_at_most(120), "Drama"),
    (["a comedy under 90 minutes"], runtime_at_most(90), "Comedy"),
    (["something under two hours"], runtime_at_most(120), None),
]


@pytest.mark.parametrize(("turns", "check", "genre"), METADATA_FILTERS,
                         ids=[" / ".join(t) for t, _, _ in METADATA_FILTERS])
def test_people_ratings_and_runtime_filter_correctly(small_rec, turns, check, genre):
    if "director" not in Item.model_fields:
        pytest.skip("the catalog has no film metadata yet (Item.director)")
    catalog = small_rec.tools.catalog
    user = new_user()
    for message in turns:
        reply = small_rec.chat(user, message)
        assert reply.error is None, f"{message!r} -> {show(reply)}"
    outside = [f"{it.label} ({meta(small_rec, it.item_id)})" for it in reply.items
               if not check(meta(small_rec, it.item_id)) or (genre and genre not in it.genres)]
    assert not outside, f"{turns} -> not {check.__doc__}{f' {genre}' if genre else ''}: {outside}"
    available = [it for it in catalog.get(catalog.item_ids) if check(it) and (genre is None or genre in it.genres)]
    if available:
        assert reply.items, f"{turns}: the catalog has {len(available)} films {check.__doc__}, none listed -> {show(reply)}"


# ---------------------------------------------------------------------------------------------
# 5. Seen it
# ---------------------------------------------------------------------------------------------

SEEN = [
    ("a 90s comedy", "seen the first one already"),
    ("an action film from the 80s", "I've watched that"),
    ("a western", "already saw {first}"),
    ("romantic movies from the 90s", "the first one I've already seen"),
    ("a sci-fi film", "I saw the top one last week"),
    ("a crime film from the 70s", "watched {first} a while ago"),
]


@pytest.mark.parametrize(("opener", "seen"), SEEN)
def test_a_film_seen_is_not_shown_again(small_rec, opener, seen):
    user = new_user()
    first = small_rec.chat(user, opener)
    assert first.items, f"{opener!r} -> {show(first)}"
    film = first.items[0]
    said = seen.format(first=film.title)
    # the next 3 turns: the one saying it, a fresh start, the same request again
    for message in [said, "let's start over", opener]:
        reply = small_rec.chat(user, message)
        assert reply.error is None, f"{message!r} -> {show(reply)}"
        assert film.item_id not in [i.item_id for i in reply.items], \
            f"{said!r} after {opener!r}, then {message!r}: {film.label} shown again"


def test_a_named_film_seen_is_not_shown_again(small_rec):
    toy = small_rec.tools.catalog.resolve_title("Toy Story").item_id
    assert toy is not None
    user = new_user()
    opener = "animated children's films from 1995"
    small_rec.chat(user, opener)
    for message in ["already saw Toy Story", "start over", opener]:
        reply = small_rec.chat(user, message)
        assert reply.error is None, f"{message!r} -> {show(reply)}"
        assert toy not in [i.item_id for i in reply.items], f"'already saw Toy Story', then {message!r}: shown again"
