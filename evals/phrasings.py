"""What the simulated user says: every act in several phrasings, in plain chat English.

Written apart from the understander (agent/understand.py): these are the ways people ask for
films, not the ways a parser reads them. The simulator picks one phrasing per act with its
seeded rng; a phrasing is a ``str.format`` template. The understander's tests never import this
table, so the agent cannot be tuned to it by its own tests.

Placeholders: {genre} a genre as a noun phrase ("a war movie"), {word} / {word2} a genre as a
mass noun ("war"), {genres} a genre in the plural ("war movies"), {title} a film's title,
{titles} several, {nth} an ordinal ("third"), {decade} ("90s", "nineties"), {part} ("early"), {year}.
"""

from __future__ import annotations

# One table: act -> phrasings. A template that starts with a placeholder is capitalised when said.
PHRASINGS: dict[str, tuple[str, ...]] = {
    # first message
    "open_genre": (
        "I feel like watching {genre} tonight.",
        "I'm in the mood for {genre}.",
        "Can you suggest {genre}?",
        "Looking for {genre} to watch.",
        "Any ideas for {genre}?",
        "hey, could you find me {genre}?",
    ),
    "open_vague": (
        "Can you recommend a movie for tonight?",
        "What should I watch tonight?",
        "I need something to watch.",
        "Any movie suggestions?",
    ),
    # answering the recommender's question
    "answer_genre": (
        "{genre}.",
        "{genre}, I think.",
        "Probably {genre}.",
        "I'd say {genre}.",
    ),
    # a second genre of the target, on top of the first one said
    "add_genre": (
        "{genre} with some {word2} in it.",
        "{genre}, but with a bit of {word2}.",
        "Ideally with some {word2} too.",
        "Some {word2} would be nice as well.",
    ),
    "add_first_genre": (
        "{genre}, please.",
        "It should be {genre}.",
        "Make it {genre}.",
    ),
    # critiques of the list shown
    "less": (
        "Less {word}, please.",
        "Too much {word} in there.",
        "Not so much {word}.",
        "Can you cut back on the {word}?",
    ),
    "less_more": (
        "Less {word}, more {word2}.",
        "Not so much {word}; more {word2}, please.",
        "Too much {word} - I'd rather have {word2}.",
    ),
    "older": (
        "Something older.",
        "Those are too recent.",
        "Can you go further back in time?",
        "Older films, please.",
    ),
    "newer": (
        "Something newer.",
        "Those are too old.",
        "Something more recent, please.",
        "Newer films, please.",
    ),
    # about one film of the list shown
    "more_like_shown": (
        'More like "{title}".',
        '"{title}" is close, more like that.',
        "The {nth} one is close to what I want.",
        '"{title}" is in the right direction.',
        "I like the look of the {nth} one, more like that.",
    ),
    "not_that": (
        'Not "{title}".',
        '"{title}" isn\'t for me.',
        "Not the {nth} one.",
        "The {nth} one is not what I want.",
        'Definitely not "{title}".',
    ),
    "something_else": (
        "Something else, please.",
        "Show me some other options.",
        "None of those.",
        "Hmm, none of these. Other ideas?",
        "Not quite, anything else?",
    ),
    # what the user reveals, one step a turn
    "anchor": (
        'Something like "{title}".',
        'More like "{title}", please.',
        'I loved "{title}" - something in that vein?',
        'Think "{title}".',
        'Along the lines of "{title}".',
        "Something like {title}, maybe?",
    ),
    "decade": (
        "Something from the {decade}.",
        "Preferably from the {decade}.",
        "It should be from the {decade}.",
        "Ideally a film from the {decade}.",
    ),
    "part_of_decade": (
        "Preferably from the {part} {decade}.",
        "Something from the {part} {decade}.",
        "Made in the {part} {decade}, I think.",
    ),
    "year": (
        "From around {year}.",
        "Something from {year} or so.",
        "Released around {year}.",
        "Roughly {year}.",
    ),
    "popular": (
        "Something well-known.",
        "A popular one.",
        "Something most people have seen.",
        "A big hit, ideally.",
    ),
    "obscure": (
        "A lesser-known one.",
        "Something less well-known.",
        "A hidden gem, ideally.",
        "Something most people haven't seen.",
    ),
    # the earlier sessions of the memory and stale protocols (evals.simulator.earlier_sessions)
    "lately_loved": (
        "Lately I watched {titles} and loved {them}.",
        "I saw {titles} recently, really enjoyed {them}.",
        "Watched {titles} the other week and loved {them}.",
    ),
    "lately_disliked": (
        "{title} was a letdown, though.",
        "I didn't like {title} much, though.",
        "But {title} was not for me.",
    ),
    "seen_loved": ("I've seen {title}, loved it.", "{title} I saw already, it was great.", "Seen {title}, loved it."),
    "seen_disliked": ("I've seen {title}, didn't like it.", "Saw {title} already, not my thing.",
                      "{title} I saw, and didn't care for it."),
    "love_genre": ("I love {genres}.", "I'm a big fan of {genres}.", "I always enjoy {genres}."),
    "off_genre": ("I'm done with {genres}, no more of those.", "I've gone off {genres} lately, none of those please.",
                  "I used to love {genres} but I'm sick of them now."),
    "disliked_genre": (
        "I can't stand {genres}.",
        "I don't like {genres}.",
        "Please, never any {genres}.",
        "{genres} are not my thing.",
    ),
    "hello": ("Hello!", "Hi there.", "Hey."),
    "no_preference": ("Either is fine.", "No preference there.", "I don't mind either way."),
}

# Each catalog genre as a noun phrase, a mass noun and a plural; every wording is true of every
# film with the genre (no "gangster" for Crime: not every crime film has gangsters).
GENRE_NOUNS: dict[str, tuple[str, ...]] = {
    "Action": ("an action movie", "something action-packed", "an action flick"),
    "Adventure": ("an adventure", "an adventure film", "something adventurous"),
    "Animation": ("an animated film", "a cartoon", "an animated movie"),
    "Children's": ("a kids' movie", "a family film", "something for children"),
    "Comedy": ("a comedy", "something funny", "a funny movie"),
    "Crime": ("a crime film", "a crime story", "a crime movie"),
    "Documentary": ("a documentary", "a non-fiction film", "a doc"),
    "Drama": ("a drama", "something dramatic", "a good drama"),
    "Fantasy": ("a fantasy film", "a fantasy movie", "something with fantasy in it"),
    "Film-Noir": ("a film noir", "a noir", "something noir"),
    "Horror": ("a horror movie", "something scary", "a horror film"),
    "Musical": ("a musical", "a movie musical", "something with singing and dancing"),
    "Mystery": ("a mystery", "a mystery movie", "something mysterious"),
    "Romance": ("a romance", "something romantic", "a love story"),
    "Sci-Fi": ("a sci-fi movie", "some science fiction", "a sci-fi film"),
    "Thriller": ("a thriller", "something suspenseful", "a tense thriller"),
    "War": ("a war movie", "a war film", "something set in a war"),
    "Western": ("a western", "a cowboy movie", "a western film"),
}
GENRE_MASS: dict[str, tuple[str, ...]] = {
    "Action": ("action", "action scenes"),
    "Adventure": ("adventure",),
    "Animation": ("animation", "cartoon"),
    "Children's": ("kids' stuff", "family stuff"),
    "Comedy": ("comedy", "humour"),
    "Crime": ("crime",),
    "Documentary": ("documentary", "non-fiction"),
    "Drama": ("drama",),
    "Fantasy": ("fantasy",),
    "Film-Noir": ("noir", "film noir"),
    "Horror": ("horror", "scary stuff"),
    "Musical": ("singing", "musical numbers"),
    "Mystery": ("mystery",),
    "Romance": ("romance", "romantic stuff"),
    "Sci-Fi": ("sci-fi", "science fiction"),
    "Thriller": ("suspense", "thriller"),
    "War": ("war",),
    "Western": ("western", "cowboy stuff"),
}
GENRE_PLURALS: dict[str, tuple[str, ...]] = {
    "Action": ("action movies",),
    "Adventure": ("adventure films",),
    "Animation": ("animated films", "cartoons"),
    "Children's": ("kids' movies", "children's films"),
    "Comedy": ("comedies",),
    "Crime": ("crime films",),
    "Documentary": ("documentaries",),
    "Drama": ("dramas",),
    "Fantasy": ("fantasy films",),
    "Film-Noir": ("noir films",),
    "Horror": ("horror movies", "scary movies"),
    "Musical": ("musicals",),
    "Mystery": ("mysteries",),
    "Romance": ("romances", "romantic films"),
    "Sci-Fi": ("sci-fi movies",),
    "Thriller": ("thrillers",),
    "War": ("war movies", "war films"),
    "Western": ("westerns",),
}

# How people name a decade and a part of it; "{nn}" is the decade's last two digits.
DECADE_FORMS: tuple[str, ...] = ("{nn}s", "'{nn}s", "{yyyy}s", "{word}")
DECADE_WORDS: dict[int, str] = {
    1900: "1900s", 1910: "teens", 1920: "twenties", 1930: "thirties", 1940: "forties", 1950: "fifties",
    1960: "sixties", 1970: "seventies", 1980: "eighties", 1990: "nineties", 2000: "2000s", 2010: "2010s",
}
ORDINALS: tuple[str, ...] = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
                             "tenth")
