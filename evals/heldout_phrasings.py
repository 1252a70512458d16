"""The held-out simulated user's words (`evals/heldout.py`): what it says and what each everyday
phrase means to it. Written from how people talk about films, apart from the agent's understander
and from the development simulator's phrasings (neither was read)."""

from __future__ import annotations

# Everyday genre words. `centre`: the MovieLens genres the phrase is mainly about; `covers`: every
# genre a person would accept under it (a film "fits" the phrase when it has one of them). A target
# described by a phrase that covers one of its genres but centres on another is described loosely.
# `say`: noun phrases; `many`: plurals for "too many ..." (only where people would say it).
GENRE_WORDS: dict[str, dict] = {
    "action": {
        "centre": {"Action"}, "covers": {"Action", "Adventure", "War", "Western"},
        "say": ["something with a lot of action", "an action flick", "something with fights and car chases",
                "a proper shoot-'em-up"],
        "many": ["action flicks", "shoot-'em-ups"],
    },
    "exciting": {
        "centre": {"Action"}, "covers": {"Action", "Adventure", "Thriller", "Sci-Fi", "War", "Western"},
        "say": ["something exciting", "something with a bit of a thrill to it", "something that gets my pulse going",
                "a real rollercoaster of a film"],
        "many": [],
    },
    "adventure": {
        "centre": {"Adventure"}, "covers": {"Adventure", "Action", "Fantasy"},
        "say": ["a big adventure", "a good old adventure story", "something with treasure maps and far-off places",
                "a quest, people off on a journey"],
        "many": ["adventure stories"],
    },
    "cartoon": {
        "centre": {"Animation"}, "covers": {"Animation"},
        "say": ["a cartoon", "something animated", "an animated one", "one of those drawn ones"],
        "many": ["cartoons", "animated ones"],
    },
    "family": {
        "centre": {"Children's"}, "covers": {"Children's", "Animation"},
        "say": ["something for the whole family", "a kids' movie", "something I can watch with the kids",
                "a family film"],
        "many": ["kids' movies", "family films"],
    },
    "funny": {
        "centre": {"Comedy"}, "covers": {"Comedy"},
        "say": ["something that makes me laugh", "something funny", "a good laugh", "something silly and fun"],
        "many": ["comedies", "silly ones", "jokey ones"],
    },
    "feel_good": {
        "centre": {"Comedy"}, "covers": {"Comedy", "Romance", "Musical", "Children's", "Animation"},
        "say": ["a feel-good one", "something feel-good", "something to cheer me up", "something heartwarming"],
        "many": [],
    },
    "crime": {
        "centre": {"Crime"}, "covers": {"Crime", "Film-Noir", "Thriller", "Mystery"},
        "say": ["a crime story", "something about gangsters or a heist", "a cops-and-robbers film",
                "a mob film or a heist"],
        "many": ["gangster films", "cop films"],
    },
    "real": {
        "centre": {"Documentary"}, "covers": {"Documentary"},
        "say": ["a doc, something true", "something about real life, not made up", "a real-life film, not fiction",
                "one of those films about real people"],
        "many": ["documentaries"],
    },
    "serious": {
        "centre": {"Drama"}, "covers": {"Drama", "War", "Film-Noir", "Crime"},
        "say": ["something serious", "a proper drama with good acting", "something that makes me think",
                "a heavier film"],
        "many": ["heavy dramas", "serious ones"],
    },
    "tearjerker": {
        "centre": {"Drama"}, "covers": {"Drama", "Romance", "War"},
        "say": ["a real tearjerker", "something that'll make me cry", "a weepie", "something moving"],
        "many": ["weepies", "tearjerkers"],
    },
    "magic": {
        "centre": {"Fantasy"}, "covers": {"Fantasy", "Children's", "Animation", "Adventure"},
        "say": ["something with magic in it", "a fairy-tale kind of thing", "wizards and dragons, that sort of thing",
                "something a bit magical"],
        "many": ["fairy tales"],
    },
    "noir": {
        "centre": {"Film-Noir"}, "covers": {"Film-Noir", "Crime", "Mystery"},
        "say": ["a moody detective story with a femme fatale", "something hard-boiled, private eyes and double-crosses",
                "a shadowy detective film", "one of those smoky detective films"],
        "many": ["detective films"],
    },
    "scary": {
        "centre": {"Horror"}, "covers": {"Horror", "Thriller"},
        "say": ["something scary", "a creepy one", "something that'll give me nightmares", "a good fright"],
        "many": ["scary films", "horror films", "slashers"],
    },
    "songs": {
        "centre": {"Musical"}, "covers": {"Musical"},
        "say": ["something with songs", "one where they break into song", "a singalong",
                "something with music and dancing"],
        "many": ["musicals", "singalongs"],
    },
    "whodunit": {
        "centre": {"Mystery"}, "covers": {"Mystery", "Thriller", "Crime", "Film-Noir"},
        "say": ["a whodunit", "a mystery to figure out", "something with a twist at the end",
                "a puzzle I can try to solve"],
        "many": ["whodunits", "mysteries"],
    },
    "love": {
        "centre": {"Romance"}, "covers": {"Romance"},
        "say": ["a love story", "something romantic", "a date movie", "something with a bit of romance"],
        "many": ["love stories", "romantic ones"],
    },
    "space": {
        "centre": {"Sci-Fi"}, "covers": {"Sci-Fi"},
        "say": ["something set in space or the future", "aliens or robots, that kind of thing", "something futuristic",
                "a science-fiction one"],
        "many": ["space films", "robot films"],
    },
    "tense": {
        "centre": {"Thriller"}, "covers": {"Thriller", "Horror", "Mystery", "Crime"},
        "say": ["something tense", "an edge-of-my-seat film", "something suspenseful", "a real nail-biter"],
        "many": ["thrillers", "nail-biters"],
    },
    "war": {
        "centre": {"War"}, "covers": {"War"},
        "say": ["a war film", "something about soldiers", "something set in a war", "a battlefield story"],
        "many": ["war films"],
    },
    "cowboys": {
        "centre": {"Western"}, "covers": {"Western"},
        "say": ["a western", "a cowboy film", "something with gunslingers and horses",
                "a good old shoot-out in the desert"],
        "many": ["westerns", "cowboy films"],
    },
}  # fmt: skip

# Lighter or darker, as the person judges a film from its genres.
LIGHTER = {"Comedy", "Animation", "Children's", "Musical"}
DARKER = {"Horror", "Thriller", "Crime", "War", "Film-Noir", "Drama"}

# Approximate eras: a window of years (None: open) and the sentences that say it. Decades are
# said loosely: "the seventies or so" means DECADE_SLACK years either side of 1970-1979.
ERAS: dict[str, tuple[tuple[int | None, int | None], list[str]]] = {
    "classic": ((None, 1964), ["Ideally an old classic.", "Something from way back, one of the old greats.",
                               "An old classic would be perfect.", "Golden-oldie territory, if you can."]),
    "not_recent": ((None, 1993), ["Nothing too recent, though.", "Not one of the newer ones.",
                                  "I'd rather it wasn't a new release.", "Something that's been around a while."]),
    "recent": ((1994, None), ["Fairly recent, ideally.", "Something newish.", "One of the more recent ones.",
                              "Not an old one, something from the last few years."]),
}  # fmt: skip
DECADE_SLACK = 3
DECADES = {
    1920: ["twenties", "'20s"], 1930: ["thirties", "'30s"], 1940: ["forties", "'40s"], 1950: ["fifties", "'50s"],
    1960: ["sixties", "'60s"], 1970: ["seventies", "'70s"], 1980: ["eighties", "'80s"], 1990: ["nineties", "'90s"],
}  # fmt: skip

ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
            "eleventh", "twelfth"]  # fmt: skip

# What a question is about, read from its words (the first topic with a keyword in it wins).
QUESTION_TOPICS: list[tuple[str, list[str]]] = [
    ("liked", ["similar", "liked", "enjoyed", "favourite", "favorite", "example", "loved", "recently watched",
               "seen lately", "a film you", "a movie you"]),
    ("era", ["old", "new", "recent", "decade", "era", "year", "when", "classic", "modern", "period", "released"]),
    ("popularity", ["popular", "known", "hit", "famous", "mainstream", "obscure", "gem", "blockbuster", "indie",
                    "niche"]),
    ("mood", ["light", "dark", "mood", "tone", "serious", "heavy", "upbeat", "cheerful", "gritty", "feel"]),
    ("genre", ["genre", "kind", "type", "sort", "style", "what are you"]),
]  # fmt: skip

# Sentences per act. Slots: {what} a genre noun phrase, {decade} a decade name, {title} a film,
# {ordinal} its place in the list, {many} a plural genre word, {said} something said before.
PHRASES: dict[str, list[str]] = {
    "open_genre": ["I'm in the mood for {what}.", "Can you recommend {what}?", "Looking for {what} tonight.",
                   "Fancy watching {what}. Any ideas?", "Hi! I'd like {what}.", "What've you got for {what}?"],
    "open_plain": ["I'm looking for a film to watch tonight.", "Can you help me pick a movie?",
                   "Hi, I want to watch something good."],
    "genre": ["Maybe {what}.", "Oh, and {what} would be good.", "Ideally {what}.", "I'm thinking {what}."],
    "answer_genre": ["{what}, I'd say.", "Hmm, {what}.", "I guess {what}.", "Probably {what}."],
    "decade": ["From the {decade} or so.", "Something from around the {decade}.",
               "Roughly the {decade}, give or take a few years.", "I'm thinking {decade}-ish."],
    "older_than": ["Older than these.", "Something older than these.", "Further back than these, I think."],
    "newer_than": ["Newer than these.", "Something more recent than these.", "Not as old as these."],
    "hit": ["It was a big hit, I think.", "Everyone has seen it, I'm sure.", "It's a really well-known one.",
            "A big popular one, everyone's heard of it."],
    "gem": ["It's a bit of a hidden gem.", "Not many people know it.", "It's not a famous one, more of a hidden gem.",
            "It's a lesser-known one, I think."],
    "like": ["Something along the lines of {title}.", "I loved {title} not long ago, something in that vein.",
             "Kind of like {title}, which I really liked lately.", "Think {title}, I enjoyed that one recently."],
    "enjoyed": ["I watched {title} lately and really enjoyed it, if that helps.",
                "The last one I really liked was {title}.", "I enjoyed {title} the other week, for what it's worth."],
    "lighter": ["On the lighter side.", "Something light, nothing heavy.", "Lighter, definitely."],
    "darker": ["On the darker side, I think.", "Darker, nothing cheery.", "Something with a darker edge."],
    "both": ["A bit of both, light in places and heavy in others.", "Somewhere in the middle: some fun, some weight."],
    "close_ordinal": ["The {ordinal} one is kind of close.", "The {ordinal} one's in the right direction.",
                      "Closer with the {ordinal} one."],
    "close_title": ["More like {title}.", "{title} is sort of close.", "Something more like {title}."],
    "unlike": ["Not {title}, that's nothing like it.", "{title} is way off.", "Definitely not {title}."],
    "too_old": ["These are all too old.", "Too old, all of these.", "These feel dated, something newer."],
    "too_new": ["These are all too recent.", "Too new, these.", "These are too modern for what I want."],
    "too_many": ["Too many {many}.", "Enough {many} already.", "Fewer {many}, please."],
    "seen": ["I've seen most of these.", "Seen nearly all of these already.", "I've watched most of these."],
    "meh": ["Hmm, not really what I had in mind.", "Nope, none of these.", "Not quite.", "None of these grab me."],
    "dont_know": ["No idea, honestly.", "Not sure, to be honest.", "Couldn't say, really."],
    "again": ["Like I said: {said}", "As I said, {said}"],
}  # fmt: skip

# The earlier sessions of the two- and three-session protocols (`earlier_sessions`): what the person
# watched lately, a genre it never watches, the cards it has seen, a genre it loves then tires of.
# Slots: {title} a film, {films} several ("A, B and C"), {many} a plural genre word (GENRE_WORDS).
EARLIER_PHRASES: dict[str, list[str]] = {
    "lately_loved_one": ["I watched {title} the other day and loved it.", "Just saw {title}, really loved it.",
                         "Caught {title} last week, what a great film.",
                         "Recently watched {title} and thought it was brilliant."],
    "lately_loved_many": ["Lately I've watched {films}, loved them all.", "Been on a good run recently: {films}, all great.",
                          "Saw {films} over the last couple of weeks and really enjoyed them.",
                          "Recently I watched {films} and loved every one."],
    "lately_disliked_one": ["{title} was a letdown, saw it recently.",
                            "I watched {title} lately and didn't like it much.",
                            "Saw {title} the other week, wasn't for me.", "Wasn't keen on {title}, which I watched recently."],
    "lately_disliked_many": ["{films} were letdowns, saw them recently.",
                             "Didn't enjoy {films} much, watched them lately.",
                             "Saw {films} lately and they weren't for me."],
    "no_genre": ["Please no {many}, I never watch them.", "Oh and I can't stand {many}, so skip those.",
                 "Just so you know, {many} aren't my thing at all.", "Don't bother with {many}, I never watch them."],
    "seen_liked": ["Oh, I've seen {title}, loved it.", "{title}, seen it, really good.", "Already watched {title}, great film.",
                   "I saw {title} a while ago and liked it a lot."],
    "seen_disliked": ["I've seen {title}, didn't like it.", "Watched {title} already, not a fan.",
                      "{title}? Seen it, wasn't for me.", "Saw {title} before and didn't enjoy it."],
    "hello": ["Hi there!", "Hey, just having a look around for now.", "Hello! Just browsing today.",
              "Hi, just seeing what's here."],
    "love_genre": ["I love {many}.", "Honestly, I could watch {many} all day.",
                   "I'm a big fan of {many}, they're my favourite.", "{many} are my thing, really."],
    "over_genre": ["I've had my fill of {many} lately.", "I'm a bit over {many} now, watched too many.",
                   "Not in the mood for {many} any more, I've overdone it.", "Enough {many} for a while, I'm sick of them."],
}  # fmt: skip
