"""The offline understander's vocabulary: word tables, phrase patterns and thresholds, as data.

``agent/understand.py`` holds the procedure; everything it matches against lives here, so a new
synonym or phrasing is one line in one table. Patterns run on the lowercased message.
"""

from __future__ import annotations

import re

# The one limit on a message, in characters: the understander reads this much (nobody types more,
# and the rules are linear in length), ConvRec.chat cuts a longer one saying so, the REST API
# refuses it. Parts that read less derive their limit from it (agent.planner.LLM_MESSAGE).
MAX_MESSAGE = 2000
RAW_MESSAGE = 4 * MAX_MESSAGE  # raw characters taken before cleaning (markup and runs of spaces shrink)
MAX_VIBE_CHARS = 200
OLD_YEAR_MAX = 1970
RECENT_YEARS = 3
MAX_FUZZY_LOOKUPS = 8  # per message: each costs a few ms, and a message names a few titles at most

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

# (pattern, catalog genres, generic): generic words only name the genre and leave the vibe;
# thematic ones ("heist", "space") also stay in the vibe, where they help semantic retrieval.
GENRE_TABLE: list[tuple[str, tuple[str, ...], bool]] = [
    (r"rom[\s-]?coms?|romantic[\s-]+comed(?:y|ies)", ("Romance", "Comedy"), True),
    (r"dramed(?:y|ies)|comedy[\s-]dramas?", ("Comedy", "Drama"), True),
    (r"film[\s-]+noirs?|noirs?", ("Film-Noir",), True),
    (r"sci[\s-]?fi|scifi|science[\s-]+fiction", ("Sci-Fi",), True),
    (r"space|futuristic|aliens|robots?|time[\s-]+travel|dystopian?|space[\s-]?ships?|starships?|astronauts?"
     r"|extraterrestrials?|cyborgs?|androids?", ("Sci-Fi",), False),
    (r"comed(?:y|ies)|comedic|funn(?:y|ier|iest)|hilarious|humou?r(?:ous)?|laughs?|laughing", ("Comedy",), True),
    (r"spoofs?|parod(?:y|ies)|send[\s-]?ups?|screwball", ("Comedy",), False),
    (r"horrors?|scar(?:y|ier|iest)|frightening|spook(?:y|ier|iest)|terrifying", ("Horror",), True),
    (r"zombies?|slashers?|vampires?|werewol(?:f|ves)|haunted(?:[\s-]+houses?)?|ghosts|ghost[\s-]+stor(?:y|ies)"
     r"|creature[\s-]+features?|monster[\s-]+(?:movies?|films?|flicks?)", ("Horror",), False),
    (r"cartoons?|animated|animations?|animes?", ("Animation",), True),
    (r"kids?|famil(?:y|ies)|children'?s?|child[\s-]friendly|family[\s-]friendly", ("Children's",), True),
    (r"romances?|romantic|love[\s-]+stor(?:y|ies)", ("Romance",), True),
    (r"thrillers?|suspense(?:ful)?|thrilling", ("Thriller",), True),
    (r"action(?:[\s-]packed)?", ("Action",), True),
    (r"explosions?|shoot[\s-]?outs?|car[\s-]+chases?|martial[\s-]+arts|kung[\s-]+fu|karate|gunfights?"
     r"|shoot[\s-]?'?em[\s-]?ups?", ("Action",), False),
    (r"wars?|wartime", ("War",), True),
    (r"military|soldiers?|battles?", ("War",), False),
    (r"westerns?", ("Western",), True),
    (r"cowboys?|wild[\s-]+west", ("Western",), False),
    (r"musicals?", ("Musical",), True),
    (r"song[\s-]+and[\s-]+dance|sing[\s-]?alongs?|show[\s-]?tunes", ("Musical",), False),
    (r"documentar(?:y|ies)|docs|docus?|non[\s-]?fiction", ("Documentary",), True),
    (r"myster(?:y|ies|ious)", ("Mystery",), True),
    (r"whodunn?its?|detectives?", ("Mystery",), False),
    (r"crimes?", ("Crime",), True),
    (r"gangsters?|heists?|mob|mobsters?|mafia|criminals?", ("Crime",), False),
    (r"dramas?|dramatic", ("Drama",), True),
    (r"biopics?|biographical|period[\s-]+pieces?|costume[\s-]+dramas?", ("Drama",), False),
    (r"adventures?|adventurous", ("Adventure",), True),
    (r"swashbuck(?:lers?|ling)|pirates?|treasure[\s-]+hunts?", ("Adventure",), False),
    (r"fantas(?:y|ies)", ("Fantasy",), True),
    (r"magical|magic|wizards?|dragons?", ("Fantasy",), False),
]
GENRE_RES = [(re.compile(rf"(?<![\w-])(?:{p})(?![\w-])"), g, generic) for p, g, generic in GENRE_TABLE]
GENRE_WORD = re.compile("|".join(f"(?:{p})" for p, _, _ in GENRE_TABLE))

# Words that carry no content of their own: they leave the vibe, and an untriggered title made
# only of such words ("Good Morning", "True Crime", "Only You") is not taken as a title.
FILLER = set(
    """
    a an the some any something anything everything nothing somethin stuff thing things one ones
    movie movies film films flick flicks picture pictures title titles cinema watch watching
    watched see seeing seen saw want wants wanted wanna would could should can may might will
    shall must like likes liked love loved loves enjoy enjoyed adore adored hate hated hates
    dislike disliked please pls plz recommend recommendation recommendations suggest suggestion
    suggestions show shows give find need looking look looks get got have has had having do does
    did done i me my mine myself we us our you your yours he she they them their it its this that
    these those there here what which who whom whose how why when where is are was were be been
    being am to of in on at by for from with without about as than then so and or but if also too
    very really pretty quite just only maybe perhaps kind kinda sort sorta type types genre genres
    tonight today now again more most less least much many lot lots bit little some good nice
    decent fine okay ok yes no not nor never none non all both either neither each every other
    another else different instead rather prefer preferably mood feel feeling fancy into up down
    out off over let lets let's i'm im i'd id i've ive i'll you're that's whats what's it's dont
    don't didn't doesn't isn't wasn't aren't can't cannot couldn't wouldn't won't shouldn't haven't
    hasn't hadn't ain't idea think guess sure know tell talk ask thanks thank hi hello hey bye
    similar same such vein style spirit reminds reminiscent fan fans thumbs thumb hmm um uh oh
    well actually probably definitely something's anything's item items option options number pick
    picks choice choices list recommended try trying already yet ever still once yourself year makes
    better whatever's ish esque
    years old onward onwards yesterday recently lately weekend ago twice
    anymore longer switch switching change make both additionally addition combined mixed optional
    forget matter necessarily needed required necessary enough elements touch dash whenever
    ideas ideal ideally close closer closest near nearer right direction directions track along
    lines line further farther released release go back after sometime somewhere whatever roughly
    approximately around circa story stories scene scenes set made time times era
    going goes gone went came come comes coming sounds sound seems seem seemed vibe vibes hint
    slightly somewhat fairly
    """.split()
)
SMALLTALK = set(
    """
    hi hello hey heya hiya yo howdy greetings good morning afternoon evening night thanks thank you
    thx ty cheers bye goodbye see ya later ok okay k cool great nice awesome perfect lol haha how
    are is it going what's whats up sup so much very a lot there again all for the help that's thats
    sounds got alright sure fine wonderful amazing appreciate appreciated doing today
    """.split()
)
GREETINGS = set(
    """
    hi hello hey heya hiya yo howdy greetings morning afternoon evening thanks thank thx ty cheers
    bye goodbye later ok okay cool great nice awesome perfect lol haha how up sup alright wonderful
    amazing appreciate appreciated
    """.split()
)
# Common words that appear in many titles; an untriggered multi-word title needs one word
# outside this set (or Title Case) before we believe the user named a film.
EVERYDAY = set(
    """
    big small great best bad old new true real dark night day days time man men woman women life
    world home family friends friend girl girls boy boys kid kids story game show two three first
    last next talk happy sad fun funny face perfect sweet wild dead simple wish open season city
    money people heart love house school party town year years end way place road blue red white
    black green little long short high low hot cold free fire water sun moon star light home lost
    run running walk walking big one only just before after now then escape crime romance truth lie
    lies good morning evening afternoon world sea sky summer winter spring fall play game games
    trouble secret secrets thing things mother father brother sister son daughter king queen live
    living dance dancing music song rain wind
    """.split()
)

ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "top": 1, "last": -1,
}  # fmt: skip
COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "2": 2, "3": 3, "4": 4, "5": 5}
ORD = r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|(?:10|[1-9])(?:st|nd|rd|th)|top|last"
REF_NOUN = r"(?:one|movie|film|pick|option|suggestion|recommendation|title|choice|entry|item)s?"
COUNT = r"two|three|four|five|[2-5]"
NUMBER_WORDS = {w: n for n, w in enumerate("one two three four five six seven eight nine ten".split(), 1)}
NUM = r"\d{1,2}(?!\d)|(?:" + "|".join(NUMBER_WORDS) + r")(?![\w'])"  # "#3", "number three"

CROSSED = r"meets|crossed\s+with|mixed\s+with"  # "Fargo meets Heat": two films (or topics) crossed

# A reference to the shown list right after a cue: "loved the first", "not that one", "like #2".
REF_AFTER_CUE = re.compile(
    rf"(?:the\s+)?(?P<ord>{ORD})(?:\s+(?P<count>{COUNT}))?(?:\s+{REF_NOUN})?(?![\w'])"
    rf"|(?:#\s*|number\s+|no\.\s*|option\s+|item\s+|pick\s+)(?P<num>{NUM})"
    r"|(?P<all>all\s+(?:of\s+)?(?:them|these|those|three|of\s+it)|them(?:\s+all)?|these|those|both(?:\s+of\s+them)?"
    r"|it\s+all|every\s+(?:single\s+)?one(?:\s+of\s+(?:them|these|those))?|each\s+(?:one\s+)?of\s+(?:them|these|those))(?![\w'])"
    r"|(?P<pron>(?:that|this)\s+one|it(?![\w'])|(?:that|this)(?=\s*(?:[.!?,;]|$|please|again|\x00)))"
)
# A reference on its own: "the second one was great", "#3", "none of these".
REF_STANDALONE = re.compile(  # "the first one's close": the "'s" is the verb (RIGHT_EVAL reads it)
    rf"(?:the\s+)?(?P<ord>{ORD})(?:\s+(?P<count>{COUNT}))?\s+{REF_NOUN}(?:(?='s(?![\w']))|(?![\w']))"
    rf"|the\s+(?P<ord2>{ORD})(?:\s+(?P<count2>{COUNT}))?(?=\s*(?:[.!?,;]|$|was|is|are|were|looks?|sounds?|seems?|seemed|please|and|or|but))"
    rf"|(?:#\s*|(?<![\w])(?:number|option)\s+)(?P<num>{NUM})"
    r"|(?P<none>none\s+of\s+(?:them|these|those|the\s+above)|not\s+(?:these|those|them))(?![\w'])"
    r"|(?P<all>all\s+of\s+(?:them|these|those))(?![\w'])"
    r"|(?P<pron>(?:that|this)\s+one|it(?=\s+(?:was|is|looks?|sounds?|seems?|seemed|lets?|bored|disappointed|fell|did|does"
    r"|dragged)(?:n't)?(?![\w'])))"
)

# A film to measure against: "scarier than Scream", "nothing darker than Jurassic Park", "less violent
# than Heat", "as funny as Fargo". The film is the anchor (wanted like it), whatever negation comes before
# the comparative: that applies to the comparative (a tone or genre), not to the film. Not "other/rather
# than" (negations), "older/later than" (eras), "better/worse than" (which film is liked depends on the
# sentence), "shorter/longer than" (a length), "as long/far/soon as", "as good as it gets"; and only
# where a request is made (ANCHOR_AT): "it was scarier than Alien" compares, it asks for nothing.
COMPARED_TO = (
    # a genre or tone word ("scarier", "funnier") is already masked (\x00) when cues are read
    r"(?:(?!(?:oth|rath|old|new|lat|earli|bett|wors|short|long)er(?![\w']))[a-z]+er|\x00+|(?:more|less)\s+[a-z\x00]+(?:\s+[a-z\x00]+)?)\s+than"
    r"|as\s+(?!(?:long|far|soon|well|much|many|often|quickly)\s)[a-z\x00]+\s+as"
    r"(?!\s+(?:it|that|this|they|you|i|we|he|she|possible|ever|can|could|usual|anything|hell)(?![\w']))"
)
ANCHOR_AT = re.compile(
    r"(?:^|[,.;:!?(\u2014\u2013-]|(?<![\w'])(?:something|anything|nothing|one|ones|films?|movies?|stuff|bit|little|lot"
    r"|even|much|way|slightly|somewhat|not|no|just|please|maybe|a|an|but|and|or|want|need|find|give|show"
    r"|recommend|suggest|that'?s|that\s+is|which\s+is|feels?)|\x00)\s*$"
)
# Cues before a title or reference; the object is whatever follows.
TRIGGER = re.compile(
    r"(?<![\w'])(?:"
    r"(?P<like>(?:more\s+)?like)(?!\s+to\b)"
    r"|similar\s+to|same\s+as|such\s+as|unlike|anything\s+but|other\s+than|rather\s+than|instead\s+of"
    r"|forget(?:\s+about)?|never\s*mind"
    r"|apart\s+from|except(?:\s+for)?|besides|(?:the\s+)?(?:vein|style|spirit|mould|mold|lines|version)\s+of"
    r"|reminds?\s+me\s+of|reminiscent\s+of|(?:a|à)\s+la|comparable\s+to|akin\s+to|fans?\s+of"
    rf"|(?P<compared>{COMPARED_TO})"
    # "think Die Hard": the film to be like (a cue only where a clause starts: THINK_AT)
    r"|(?P<think>think)(?!\s+(?:about|of|so|that|it|this|these|those|maybe|twice|again|over|through|back|(?:i|we|you|they)(?:'\w+)?)(?![\w']))"
    r"|(?:(?:the\s+)?same|a\s+similar|similar)\s+(?:vibe|feel|feeling|energy|tone|mood|atmosphere)\s+(?:as|to)"
    r"|(?:the|that)\s+(?:vibe|feel|energy|tone|mood|atmosphere)\s+of"
    rf"|{CROSSED}"
    r"|lov(?:e|ed|es)|lik(?:ed|es)|enjoy(?:ed|s)?|ador(?:e|ed|es)|hat(?:e|ed|es)|dislik(?:e|ed|es)"
    r"|detest(?:ed)?|despis(?:e|ed)|loath(?:e|ed)|(?:can'?t|cannot|couldn'?t|could\s+not)\s+stand|seen|watched|saw|finished|rewatch(?:ed)?|re-watch(?:ed)?"
    r"|rented|hear(?:d|ing)\s+(?:(?:so\s+much|a\s+lot|good\s+things|great\s+things|things)\s+)?(?:of|about)|care\s+for|disappointed\s+(?:by|with|in)|underwhelmed\s+(?:by|with)|let\s+down\s+by|bored\s+(?:by|with)"
    r"|know(?=\s+[^.!?]{1,60}?\s+by\s+heart)|thumbs?\s+(?:up|down)(?:\s+(?:on|for|to))?|(?P<ref_only>not|no(?:\s+to)?|skip|drop|remove|ditch|without)"
    r")(?![\w'])(?:\s+(?:the\s+)?(?:movie|film)s?(?![\w']))?"
    r"|[\U0001F44D\U0001F44E](?:\s*(?:on|for|to)(?![\w']))?"
)
# "think" names a film to be like only where a clause starts ("something tense, think Heat"), never
# after a subject or a verb ("I think Fargo was great", "what do you think")
# after "think": a title, then a verb, then a question mark ("Think Fargo is worth watching?")
QUESTION_AHEAD = re.compile(r"\s+[^.!?;,\-\u2014]{1,60}?\s+(?:is|was|would|will|could|might|does|has|'s)(?![\w'])[^.!?;]*\?")
THINK_AT = re.compile(r"(?:^|[,.;:!?(\u2014\u2013-]|(?<![\w'])(?:so|just|basically|something|anything|stuff|like|maybe|e\.g\.))\s*$")
# "like" that means "want" or "resemble" rather than a title cue: "I'd like", "feels like".
LIKE_NOT_CUE = re.compile(r"(?:'d|\bwould|\bfeel|\bfeels|\blooks?|\bsounds?|\bseems?|\bkind\s+of|\bsort\s+of)\s+(?:more\s+)?$")
LIST_SEP = re.compile(r"\s*(?:,\s*(?:and|or|&)?|and|or|&|/|\+|as\s+well\s+as|plus)\s+(?:also\s+)?")
# A fuzzy title span stops at these words: they start the rest of the sentence, not the title.
BREAKERS = set(
    """
    and or but with without from in that which who where when for except please though only more
    less set made released starring featuring directed i we it because since plus also so then if
    was is were are has have had did does do would could should can will not no too very really
    just again either any
    """.split()
)
HARD_STOP = re.compile(r"[.!?;:,()\[\]{}\"\n]|\s(?:but|and|or|with)\s")
SENTENCE_END = re.compile(r"[.!?;]")
# A dot that ends an abbreviation ("Mr.", "Dr.", "vs.") or an initial ("L.A.", "G.I.") does not
# end a title: the token before it is one of these or a single letter.
ABBREVIATIONS = set("mr mrs ms dr st sgt jr sr vs blvd bros mt ft lt gen col capt prof no vol".split())


def ends_sentence(gap: str, before: str, stops: re.Pattern = HARD_STOP) -> bool:
    """Whether the text ``gap`` between two words stops a title; ``before`` is the word before it
    (normalised). A lone dot after an abbreviation or an initial does not."""
    if gap.strip() == "." and (before in ABBREVIATIONS or len(before) == 1):
        return False
    return stops.search(gap) is not None

# A taste taken back: "I'm done with westerns", "gone off thrillers", "I'm kinda over horror", "used
# to love musicals but ...". A negation (CUE) and a durable marker (DURABLE_AGAINST) alike.
TAKEN_BACK = (
    r"(?:done|through)\s+with|fed\s+up\s+with|burn(?:ed|t)\s+out\s+on"
    r"|had\s+(?:(?:more\s+than\s+)?(?:my|our)\s+(?:fill|share)|enough)\s+of"
    r"|(?:gone|went|going)\s+(?:right\s+|a\s+bit\s+|kind\s+of\s+|completely\s+)?off"
    r"|(?:i'?m|we'?re)\s+(?:kinda|kind\s+of|sort\s+of|a\s+bit|a\s+little|totally|completely|really)\s+off"
    # "I'm off westerns now" (a genre or title, already masked, comes next), not "I'm off sick"
    r"|(?:(?:i'?m|we'?re)|(?:i'?ve|we'?ve)\s+been)\s+off(?=\s+(?:(?:all|those|these|the|my)\s+)?\x00)"
    # "I've watched all the westerns I need", "seen enough horror"
    r"|(?:watched|seen)\s+(?:all\s+the|enough)(?=\s+\x00+(?:\s+(?:films?|movies?))?\s+(?:i|we)\s+(?:need|want|can))"
    # "I've done westerns to death"
    r"|(?:done|seen|watched)(?=\s+\x00+(?:\s+(?:films?|movies?))?\s+to\s+death)"
    r"|(?:i'?m|we'?re)\s+(?:(?:so|kinda|kind\s+of|sort\s+of|a\s+bit|a\s+little|pretty\s+much|totally|completely)\s+)?over"
    r"|(?:i'?ve|we'?ve)\s+outgrown|gr[eo]wn?\s+out\s+of|no\s+longer\s+(?:into|like|enjoy|love|want|watch)"
    # "used to love musicals but ...", "used to be big on westerns, not anymore"
    r"|used\s+to\s+(?:love|like|enjoy|adore|be\s+(?:into|big\s+on|crazy\s+about|obsessed\s+with|a\s+(?:big\s+|huge\s+)?fan\s+of))"
    r"(?=[^.!?;]*\b(?:but|not\s+any\s*more|no\s+longer|not\s+(?:now|these\s+days))\b)"
    r"|moved\s+on\s+from|cooled\s+(?:off\s+)?on|(?:gone|went|going|grown|growing)\s+(?:(?:really|a\s+bit|kind\s+of)\s+)?cold\s+on"
    r"|(?:i'?m|we'?re)\s+(?:well\s+|way\s+|long\s+)?past\s+(?:my|our|that|the)(?=\s+\S+(?:\s+\S+)?\s+(?:phase|stage|days|kick))"
    r"|lost\s+(?:(?:all|my|our|any)\s+)?(?:interest\s+in|taste\s+for|patience\s+(?:for|with))"
    r"|f[ae]ll(?:en)?\s+out\s+of\s+love\s+with|g[ai]ve(?:n)?\s+up\s+on|stopped\s+(?:watching|liking|enjoying)"
    r"|had\s+it\s+with"
)
# A taste once stated, then taken back right after it: "I know I said I loved westerns, but not
# anymore", "remember how I loved horror? not so much now", "I thought I loved musicals but I'm over
# it". The genre sits in a past or reported frame (RETRACT_FRAME, in its sentence before it), and one
# of a few retractions (RETRACT_NEAR) follows it within a few words, with no other genre or film
# between (checked in `_retracted`), and ends its sentence: not "I loved the comedies you suggested,
# the last one not so much", "I wanted horror, my wife not so much", "... tired of them being so gory".
RETRACT_FRAME = re.compile(
    r"(?<![\w'])(?:lov|lik|enjoy|ador)ed(?![\w'])|(?<![\w'])(?:was|were)\s+(?:really\s+)?(?:into|big\s+on|a\s+(?:big\s+|huge\s+)?fan\s+of)"
    r"|(?<![\w'])(?:said|told\s+you|thought)\s+(?:that\s+)?(?:i|we)\s+(?:\w+\s+)?(?:love|like|enjoy|adore|want)"
)
# When a taste was, said between it and its taking back ("I loved westerns as a kid, ..."), never
# other words ("the last one", "subtitles", "my week was awful")
_WHEN = (
    r"once|before|then|back\s+then|a\s+lot|so\s+much|for\s+(?:a\s+(?:while|long\s+time)|years|ages|months|weeks|so\s+long)"
    r"|(?:last|that|this\s+past)\s+(?:time|year|week|month|summer|winter|weekend)|years\s+ago"
    r"|as\s+a\s+(?:kid|teen|teenager|child)|growing\s+up|when\s+(?:i|we)\s+(?:was|were)\s+(?:younger|a\s+kid|kids|little|young)"
    r"|in\s+(?:college|school|the\s+past|my\s+twenties)|all\s+(?:summer|winter|year|week|month|weekend|day|night)"
    r"|every\s+(?:week|weekend|day|night|month)|non-?stop|on\s+repeat|lately|recently|constantly|back\s+to\s+back|in\s+a\s+row"
    r"|(?:i|we)\s+(?:watched|saw|had)|and\s+(?:really\s+)?(?:liked|loved|enjoyed)\s+(?:them|it)"
)
_WHEN_BETWEEN = rf"(?:\s+(?:films?|movies?|stuff|phase|{_WHEN}))*"
WHEN_BETWEEN = re.compile(_WHEN_BETWEEN)
WHEN = re.compile(rf"(?<![\w'])(?:{_WHEN})(?![\w'])")
RETRACT_NEAR = re.compile(
    _WHEN_BETWEEN
    + r"\s*[,.!?]?\s*(?:(?:but|and)\s+)?(?:(?:honestly|now|these\s+days|nowadays|actually|no)\s*[,?]?\s*)*"
    r"(?:not\s+any\s*more|no\s+longer|not\s+(?:so\s+much|really)(?:\s+(?:any\s*more|now|these\s+days))?"
    r"|(?:i'?m|i\s+am)\s+(?:(?:so|kinda|kind\s+of|totally|pretty\s+much)\s+)?(?:over|tired\s+of|sick\s+of|done\s+with)\s+(?:it|them|those)"
    r"|(?:i'?ve|i\s+have)\s+changed\s+my\s+mind)"
    r"(?:\s*,?\s*(?:any\s*more|now|these\s+days|though|honestly))*\s*(?:[.!;]|$)"
)
# A genre named first, as the topic ("westerns?", "as for war films,", "musicals -"), and the rest of
# its sentence one of a few refusals pointing back to it (TOPIC_REFUSAL): "westerns? I can't watch them
# anymore", "horror, I don't want any of those", "musicals - not interested these days", "war films?
# nope". Only whole refusals, so not "comedy? nothing beats it", "westerns? never tire of them",
# "horror - nothing gory, I can't handle it", "romance? not my first pick but I'd watch it".
TOPIC_BEFORE = re.compile(
    r"\s*(?:(?:ok|okay|well|so|hmm+|honestly|and|but|oh|also|now)\s*,?\s*)*"
    r"(?:(?:as\s+for|about|regarding|when\s+it\s+comes\s+to|re:?)\s+)?(?:the\s+|all\s+the\s+)?"
)
TOPIC_MARK = re.compile(r"(?:\s+(?:films?|movies?|stuff))?\s*(?:\?+|:|\.{2,}|\u2026|,|-+|\u2014|\u2013)\s*")
_REFUSAL_LEAD = r"(?:(?:honestly|yeah|well|oh|ugh|meh|sorry|but|now|these\s+days|nowadays|nah|nope|please)\s*,?\s*)*"
_REFUSAL_TRAIL = (
    r"(?:\s*,?\s*(?:any\s*more|any\s+longer|these\s+days|nowadays|now|lately|at\s+the\s+moment|right\s+now|this\s+time|tonight"
    r"|thanks|thank\s+you|please|honestly|really|at\s+all|for\s+a\s+while|for\s+now|either|again|much|not\s+any\s*more))*\s*"
)
_PRONOUN = r"(?:them|those|it)"
_IM = r"(?:(?:i'?m|we'?re|i\s+am)\s+)?"
_WATCH_IT = (  # "watch them", "stand any of those"
    r"(?:really\s+)?(?:watch|stand|do|take|stomach|bear|handle|sit\s+through|want|like|enjoy|feel\s+like|show\s+(?:me|us))"
    rf"\s+(?:{_PRONOUN}|any(?:\s+of\s+(?:them|those))?)"
)
_RATHER = r"(?:(?:i|we)(?:'d|\s+would)?\s+)?(?:rather\s+)?(?:really\s+|just\s+)?"
_OWN_REFUSAL = (  # a verb of taste of its own, with a pronoun: "I can't stand them", "I'm sick of it"
    rf"(?:(?:i|we)\s+)?(?:really\s+|just\s+)?(?:can'?t|cannot|won'?t|don'?t|do\s+not|wouldn'?t)\s+{_WATCH_IT}"
    rf"|{_RATHER}(?:dislike|avoid|hate)\s+{_PRONOUN}"
    rf"|{_IM}(?:not|no\s+longer)\s+(?:really\s+)?(?:(?:into|feeling|in\s+the\s+mood\s+for)\s+{_PRONOUN}|in\s+the\s+mood\s+for\s+any)"
    rf"|{_IM}(?:so\s+|totally\s+|kinda\s+)?(?:over|done\s+with|sick\s+of|tired\s+of|bored\s+of)\s+{_PRONOUN}"
)
_OTHER_REFUSAL = (  # a habit, a film-sized verb, an ellipsis or a bare no
    rf"(?:(?:i|we)\s+)?(?:really\s+|just\s+)?never\s+{_WATCH_IT}|{_RATHER}skip\s+{_PRONOUN}"
    rf"|{_IM}(?:not|no\s+longer)\s+(?:really\s+)?(?:interested|for\s+me)"
    # said by ellipsis: "but not these days", "but I'm not anymore", "but no more (of them)"
    rf"|{_IM}not(?=\s*,?\s*(?:any\s*more|any\s+longer|these\s+days|nowadays|now|lately|this\s+time|tonight)(?![\w']))"
    r"|no\s+more(?:\s+of\s+(?:them|those|it|that))?"
    r"|(?:i'?ll\s+|i'?d\s+)?pass(?:\s+on\s+(?:them|those|it))?|hard\s+pass|no\s+thanks|nope|nah|no\s+way|not\s+for\s+me"
)
TOPIC_REFUSAL = re.compile(rf"{_REFUSAL_LEAD}(?:{_OWN_REFUSAL}|{_OTHER_REFUSAL}){_REFUSAL_TRAIL}")
OWN_REFUSAL = re.compile(rf"{_REFUSAL_LEAD}(?:{_OWN_REFUSAL}){_REFUSAL_TRAIL}")
# A genre said in one clause as a taste or habit of before, and refused in a later one of its
# sentence ("I loved dramas for years, but now I can't stand them", "I was into westerns, but not
# these days", "we binged thrillers all summer, so I'm over them"): a frame right before the genre
# (REFUSAL_FRAME, then only FRAME_GAP's words: not "I was scared of horror as a kid", "I've seen all
# the classic westerns, so skip those"), only WHEN's words between the genre and a turn (a comma,
# and, but, so), and a clause after the turn that is a whole TOPIC_REFUSAL; without the frame, a time
# among those words and an OWN_REFUSAL ("dramas lately, I'm sick of them"). So not "I love thrillers,
# but not gory ones", "a comedy, I had a rough day and I can't take it", "horror is fine, subtitles, nope".
CONTRAST = re.compile(r"(?:,\s*|\s+)(?:(?:and\s+)?(?:but|though|yet|however|so)|and)(?![\w'])\s*|,\s*")
REFUSAL_FRAME = re.compile(
    RETRACT_FRAME.pattern
    + r"|(?<![\w'])(?:watched|binged|seen|saw|sat\s+through|had|picked|chose|said|mentioned|asked\s+for|put\s+on|went\s+through"
    r"|got\s+(?:really\s+)?into|did\s+(?:love|like|enjoy|adore)|(?:i|we)(?:'d|\s+would)\s+watch"
    r"|(?:was|were)\s+(?:all\s+about|(?:really\s+)?(?:obsessed\s+with|crazy\s+about|hooked\s+on|mad\s+about))"
    r"|used\s+to|soft\s+spot\s+for|so\s+many|all\s+(?:those|these|the)|(?:loads|lots|plenty|a\s+lot|tons)\s+of"
    r"|(?:my|our)\s+thing\s+used\s+to\s+be|made\s+(?:me|us)\s+watch|(?:grew|grown)\s+up(?=\s+(?:on|with)(?![\w']))"
    r"|(?:was|were)\s+raised(?=\s+on(?![\w'])))(?![\w'])"
)
DEMONSTRATIVE = re.compile(r"(?<![\w'])(?:those|these|that|this)(?![\w'])")
GENRE_PRONOUNS = {"it", "them", "they", "those", "these", "that"}  # what can stand for a genre said before
SOMETHING_LIKE = re.compile(r"(?<![\w'])(?:something|anything|stuff|things?)\s+like\s+$")  # "... or something like that"
CLAUSE_ENDS = re.compile(r"\s*(?:[.!?,;]|$)")
COMPARING = re.compile(r"(?<![\w'])(?:like|than|as)\s+$")  # "more westerns like those": the films shown
FRAME_GAP = re.compile(  # between the frame and the genre: "used to watch", "a lot of", "through a ... phase"
    r"(?:\s+(?:the|all|those|these|a|an|of|lot|lots|so|many|watch|watching|see|seeing|love|like|enjoy|on|with|for|about"
    r"|into|really|any|plenty|loads|tons))*\s+"
)
# A taste worn out, said after it: "westerns have gotten old", "horror got boring", "musicals wore
# thin for me", "sci-fi lost its appeal", "war films, been there, done that" (GENRE_NEG_AFTER; durable).
WORN_OUT = (
    r"(?:(?:gotten|got|grown|become|gone)|(?:are|is)\s+getting)\s+(?:(?:so|kind\s+of|kinda|a\s+bit|pretty|really|way\s+too|too)\s+)?"
    r"(?:old|stale|boring|tiresome|repetitive|samey|same-y|dull|predictable|formulaic|tired)"
    r"|lost\s+(?:its|their|all\s+(?:its|their))\s+(?:charm|appeal|magic|shine)|wor[en]\s+(?:thin|off)"
    r"|,?\s*been\s+there,?\s+done\s+that|(?:feels?|are|is|seems?)\s+(?:(?:a\s+bit|kind\s+of|so)\s+)?old\s+hat"
    r"|(?:have|has)\s+lost\s+(?:me|us)"
)
WORN_OUT_RE = re.compile(WORN_OUT)  # "gotten kinda old" is no era either
# Stance cues. Neutralisers ("don't mind") come first, then negative, seen, positive; an anchor
# (COMPARED_TO) before them all.
CUE = re.compile(
    r"(?<![\w'])(?:"
    rf"(?P<anchor>{COMPARED_TO})|"
    r"(?P<neutral>nothing\s+but|(?:do|would)(?:n't|nt|\s+not)\s+mind|not\s+(?:sure|picky|fussy|against)|no\s+preference"
    r"|(?:do|does)(?:n't|nt|\s+not)\s+(?:care(?!\s+for)|matter))"
    r"|(?P<neg>(?:can'?t|cannot|couldn'?t|could\s+not)\s+stand"
    r"|(?:do|does|did|would|could|can|should|wo|ca|is|are|was|were|have|has|had|ai)(?:n't|nt|\s+not)"
    r"|cannot|not|no|non|nothing|none|never|nor|without|unlike|anything\s+but|other\s+than|rather\s+than"
    r"|instead\s+of|apart\s+from|except(?:\s+for)?|excluding|less|fewer|too\s+much|too\s+many|no\s+more"
    r"|(?:tak(?:e|ing)|need)\s+a\s+(?:little\s+|short\s+|bit\s+of\s+a\s+)?break\s+from(?=\s+(?:(?:all|those|these|the)\s+)?\x00)|cut(?:ting)?\s+(?:back|down)\s+on|tone\s+down|go\s+easy\s+on|easy\s+on|ease\s+up\s+on|lay\s+off"
    r"|avoid\w*|skip|drop|remove|ditch|hat(?:e|ed|es|ing)|dislik\w*|detest\w*|despis\w*|loath\w*"
    r"|(?:sick|tired)\s+of|bored\s+(?:of|by|with)|enough\s+(?:of|with)|thumbs?\s+down|\U0001F44E"
    r"|disappointed\s+(?:by|with|in)|underwhelmed\s+(?:by|with)|let\s+down\s+by"
    r"|spare\s+(?:me|us)(?:\s+from)?|save\s+(?:me|us)\s+from|steer\s+clear\s+of|(?:stay|keep)\s+away\s+from|pass\s+on|minus"
    rf"|{TAKEN_BACK})"
    r"|(?P<heard>hear(?:d|ing)\s+(?:(?:so\s+much|a\s+lot|good\s+things|great\s+things|things)\s+)?(?:of|about))"  # neither seen nor liked
    r"|(?P<seen>seen|watched|saw|finished|rented)"
    r"|(?P<pos>like|likes|liked|love|loves|loved|loving|enjoy\w*|ador\w*|prefer\w*|want\w*|wanna|need"
    r"|more|extra|lots\s+of|plenty\s+of|with|fans?\s+of|similar\s+to|thumbs?\s+up|into|some|rather"
    r"|instead|yes|please|dig|\U0001F44D)"
    r")(?![\w'])"
)
# Cue words that state an opinion about an item (feedback), rather than ask for something.
OPINION = re.compile(
    r"lov(?:e|ed|es)|lik(?:ed|es)|enjoy\w*|ador\w*|hat(?:e|ed|es)|dislik\w*|detest\w*|despis\w*"
    r"|loath\w*|(?:can'?t|cannot|couldn'?t|could\s+not)\s+stand|seen|watched|saw|heard\s+\w+|thumbs?\s+\w+|fan\s+of|dig|[\U0001F44D\U0001F44E]"
)
OPINION_SUBJECT = re.compile(r"(?:\b(?:i|we|they|he|she|kids|you|really|also|both|totally|do|did|does)|n't|nt|\bdo\s+not|\bdid\s+not)\s+$")
BOUNDARY = re.compile(
    r"[.!?;,:\n()\[\]{}]|(?<![\w'])(?<!anything\s)(?<!nothing\s)(?<!all\s)(?:but|however|although|though|whereas|while|then|plus|also|anyway"
    r"|what\s+about|how\s+about|what\s+if|maybe|perhaps|preferably)(?![\w'])"
)
RIGHT_EVAL = re.compile(  # after a title; its closing quote may already be masked (\x00)
    r"[\"'\x00]?\s*(?:[?:\u2014]\s*)?(?:was|is|were|are|looks?|looked|sounds?|sounded|seems?|seemed|'s)?\s*"
    r"(?:really\s+|so\s+|very\s+|pretty\s+|quite\s+|kind\s+of\s+|a\s+bit\s+|totally\s+|just\s+|still\s+"
    r"|absolutely\s+|honestly\s+|truly\s+|somewhat\s+|rather\s+|fairly\s+|a\s+little\s+)?"
    r"(?:(?P<pos>great|amazing|awesome|good|fantastic|excellent|brilliant|perfect|wonderful|fun"
    r"|lovely|cool|interesting|superb|incredible|a\s+masterpiece|my\s+favou?rite)"
    r"|(?P<neg>bad|terrible|awful|boring|horrible|meh|overrated|dull|lame|disappointing|stupid|dumb|too\s+much(?:\s+for\s+(?:me|us))?"
    r"|bland|a\s+bore|rubbish|garbage|not\s+(?:good|great|for\s+me|my\s+thing)"
    # a let-down: "a real disappointment", "underwhelming", "fell flat", "didn't live up to the hype"
    r"|underwhelming|mediocre|forgettable|so-?\s?so|average|over-?hyped|nothing\s+special"
    r"|not\s+worth\s+(?:it|watching|the\s+(?:hype|time|wait|money))"
    r"|a\s+(?:(?:real|big|huge|total|complete|bit\s+of\s+a)\s+)?(?:letdown|let-down|let\s+down|disappointment|slog"
    r"|snooze(?:fest)?|waste\s+of\s+(?:my\s+|our\s+)?time|chore|drag)"
    r"|lets?\s+(?:me|us)\s+down|bored\s+(?:me|us)|disappointed(?:\s+(?:me|us))?|fell\s+flat|dragged"
    r"|(?:did|does)(?:n't|nt|\s+not)\s+(?:really\s+)?(?:live\s+up|grab\s+(?:me|us)|hold\s+up"
    r"|do\s+(?:much|anything|a\s+lot|a\s+thing)\s+for\s+(?:me|us))"
    r"|(?:was|is|were|are)(?:n't|nt|\s+not)\s+(?:that|very|as|so|all\s+that|too|especially)\s+(?:good|great|fun|funny))"
    # "isn't for me", "is not what I want", "doesn't do it for me": said about an item, a no
    r"|(?P<negated>(?:(?:is|was|are|were|does|did|do)(?:n't|nt|\s+not)|not)\s+(?:really\s+|quite\s+)?"
    r"(?:for\s+(?:me|us)|my\s+(?:thing|taste|style|cup\s+of\s+tea)|what\s+(?:i|we)\s+(?:want(?:ed)?|had\s+in\s+mind"
    r"|(?:'m|am|was|are)\s+(?:after|looking\s+for))|(?:do|doing)\s+it\s+for\s+(?:me|us)|work(?:ing)?\s+for\s+(?:me|us)"
    r"|(?:my|our)\s+kind\s+of\s+(?:film|movie)|it|right)))(?![\w'])"
)

# A one-word title said first and taken up by "it" ("Casablanca, saw it again", "Heat: we loved it").
# After a one-word title, a kind of likeness: "something Fargo-like", "Alien-ish", "a Heat type of film",
# or the first of two films crossed.
TITLE_SUFFIX = re.compile(r"(?:-|\s+)(?:ish|esque|like|style|type)(?![\w'])|\s+(?:kind|sort|type)\s+of(?![\w'])"
                          rf"|\s+(?:{CROSSED})(?![\w'])")
# "-esque" names a film even in lower case ("something fargo-esque"): it follows proper names. In lower
# case "-like", "-ish" and "-style" follow common words as often ("a ghost-like presence", "a
# mother-like figure"), so there they need the capital.
TITLE_HYPHEN = re.compile(r"-esque(?![\w'])")
TOPIC_BACKREF = re.compile(
    r"\s*[,:\u2014]\s*(?:(?:i|we)\s+)?(?:(?:'ve|have|had|just|finally|also)\s+)?"
    r"(?:seen|saw|watched|rewatched|rented|loved|liked|hated|enjoyed|adored|disliked)\s+it(?![\w'])"
)

RESET = re.compile(
    r"(?<![\w'])(?:start(?:ing)?\s+(?:over|again|afresh|from\s+scratch)|reset|restart|forget\s+(?:this|that|it"
    r"|everything|all\s+(?:that|of\s+that|this)|what\s+i\s+said|about\s+it)|new\s+search|clear\s+(?:everything"
    r"|all|it|the\s+(?:filters|search))|from\s+scratch|scratch\s+that|never\s*mind(?:\s+all\s+that)?(?=\s*(?:[.!?,;:]|$)))(?![\w'])"
)
# Questions about one item; the object (title or reference) follows, or sits in `obj`.
ASK = re.compile(
    r"(?<![\w'])(?:"
    r"(?:tell|talk)\s+(?:me\s+)?(?:a\s+(?:bit|little)\s+)?(?:more\s+)?about|(?:what|how)\s+about"
    r"|(?:info(?:rmation)?|details|plot|synopsis|summary|cast|director|trivia|reviews?)\s+(?:on|about|of|for)"
    r"|more\s+(?:on|about)"  # "more of those" asks for more like them, not about them
    r"|what\s+do\s+you\s+know\s+about|who(?:'s|\s+is|\s+was|\s+are|\s+were)?\s+(?:in|starring\s+in|acting\s+in)"
    # asking our opinion of a film: "what do you think of Heat?", "thoughts on Fargo?", "your take on Alien"
    r"|what\s+do\s+you\s+(?:think|make)\s+of|what\s+do\s+you\s+think\s+about|(?:any\s+|your\s+)?thoughts\s+(?:on|about)"
    r"|(?:what(?:'s|\s+is)\s+)?your\s+(?:take|opinion|verdict)\s+(?:on|of|about)"
    r"|who\s+(?:directed|made|wrote|stars\s+in|starred\s+in|acts\s+in|plays\s+in)"
    r"|what\s+(?:year|genre|rating)\s+(?:is|was)|describe|what\s+kind\s+of\s+(?:movie|film)\s+is"
    r"|what(?:'s|\s+is|\s+was)\s+(?:the\s+)?(?:plot|story)\s+of"
    r")(?![\w'])\s*"
    r"|(?<![\w'])(?:what(?:'s|\s+is|\s+was)|whats)\s+(?P<obj>[^?.!,;]{1,80}?)\s+about(?![\w'])"
    r"|(?<![\w'])is\s+(?P<obj2>[^?.!,;]{1,80}?)\s+(?:any\s+good|good|worth\s+(?:it|watching|seeing)|scary|for\s+kids)(?![\w'])"
)
ASKS_FOR_MORE = re.compile(
    r"(?<![\w'])(?:recommend\w*|suggest\w*|show\s+me|give\s+me|find|want|wanna|looking\s+for|look\s+for|need"
    r"|mood|something|anything|another|more|else|other|others|different|instead|what\s+should|can\s+you"
    r"|could\s+you|ideas?|options?)(?![\w'])|\?"
)
REFINE = re.compile(
    r"(?<![\w'])(?:something\s+else|anything\s+else|another(?:\s+one)?|others|other\s+(?:ones|options|suggestions|films|movies)"
    r"|different|instead|none\s+of|not\s+(?:these|those|them)|more\s+options|try\s+again|\w+ier|more\s+\w+|less\s+\w+)(?![\w'])"
)

# Years. YEARISH is a year ("1995", "'95") or a decade ("90s", "early 1980s", "the nineties").
DECADE_WORDS = {
    "twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950, "sixties": 1960,
    "seventies": 1970, "eighties": 1980, "nineties": 1990,
}  # fmt: skip
# a part of a decade, or two parts as one span: "early", "mid-to-late", "early to mid", "early/mid"
DECADE_PART = (r"(?:early|mid|late)(?:(?:\s*-\s*|\s+)(?:to|or|and|through|into)(?:\s*-\s*|\s+)(?:early|mid|late)"
               r"|\s*[/-]\s*(?:early|mid|late))?")
YEARISH = (
    rf"(?:{DECADE_PART}[\s-]+)?(?:the\s+)?(?:"
    r"['’]?(?:1[0-9]|20|21)?\d0['’]?s(?![\w'])|(?:twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties)(?![\w'])"
    r"|(?<![\d#])\d{4}(?![\d\w])|'\d\d(?![\w']))"
)
Y = rf"(?P<a>{YEARISH})"
# A year or decade said against: "nothing from the 80s", "I hate films from the 80s", "anything but
# the 70s", "I don't want anything from the nineties", "skip the 80s" (a few plain words between).
NEG_BEFORE = re.compile(
    r"(?<![\w'])(?:nothing|not|no|none|never|hat(?:e|ed|es|ing)|dislik\w*|detest\w*|despis\w*|loath\w*"
    r"|avoid\w*|skip|except(?:\s+for)?|excluding|anything\s+but|other\s+than|rather\s+than|(?:sick|tired)\s+of"
    r"|(?:can'?t|cannot|couldn'?t)\s+stand|(?:do|does|did|would)(?:n't|nt|\s+not)\s+(?:want|like|need|fancy|care\s+for))"
    r"\s+(?:(?:movies?|films?|stuff|anything|something|things?|made|released|from|older|earlier|too|ones|the|any|of"
    r"|in|all|those|see|watch|watching|seeing)\s+){0,4}$"
)
YEAR_RULES = [  # (kind, pattern); applied in order, each match masked before the next rule runs
    ("range", re.compile(rf"(?<![\w'])(?:between|from)\s+(?:the\s+)?{Y}\s*(?:and|to|till|until|through|thru|-|–)\s*(?:the\s+)?(?P<b>{YEARISH})")),
    ("range", re.compile(rf"{Y}\s*(?:-|–|to|through|thru)\s*(?:the\s+)?(?P<b>{YEARISH})")),
    # a list of years or decades ("1995 or 1996", "the 70s, 80s or 90s"): the span they cover
    ("list", re.compile(rf"{Y}(?:\s*(?:,|or|and|/|&)\s*(?:the\s+)?{YEARISH})*\s*(?:,\s*(?:or|and)|or|and|/|,|&)\s*(?:the\s+)?(?P<b>{YEARISH})")),
    ("max_excl", re.compile(rf"(?<![\w'])(?:before|pre-?|prior\s+to|earlier\s+than|older\s+than)\s*(?:the\s+(?:year\s+)?)?{Y}")),
    ("max_incl", re.compile(rf"(?<![\w'])(?:up\s+(?:to|until)|until|till|through|by|no\s+later\s+than|not\s+after)\s+(?:the\s+(?:year\s+)?)?{Y}")),
    ("max_incl", re.compile(rf"{Y}\s*(?:or|and)\s+(?:earlier|before|older)(?![\w'])")),
    ("min_incl", re.compile(rf"(?<![\w'])from\s+(?:the\s+)?{Y}\s*(?:on(?:wards?)?|and\s+(?:later|after|up|newer))(?![\w'])")),
    ("min_incl", re.compile(rf"{Y}\s*(?:\+|or\s+(?:later|after|newer)|and\s+(?:later|after|up|newer)|on(?:wards?)?(?![\w']))")),
    ("min_incl", re.compile(rf"(?<![\w'])(?:since|starting(?:\s+(?:in|from))?|no\s+earlier\s+than|not\s+before)\s+(?:the\s+)?{Y}")),
    ("min_excl", re.compile(rf"(?<![\w'])(?:after|post-?|later\s+than|newer\s+than|more\s+recent\s+than)\s*(?:the\s+)?{Y}")),
    ("around", re.compile(rf"(?<![\w'])(?:around|circa|ca\.|approximately|roughly|more\s+or\s+less|~)\s*(?:the\s+)?{Y}")),
    ("around", re.compile(rf"{Y}\s*-?ish(?![\w'])")),
    # a hedge after it: "the seventies or so", "a 60s film, more or less", "mid-90s give or take"
    ("around", re.compile(rf"{Y}(?:\s+(?:movies?|films?|ones?|stuff))?\s*,?\s*(?:or\s+so|or\s+thereabouts|give\s+or\s+take"
                          r"|more\s+or\s+less|roughly)(?![\w'])")),
    ("point", re.compile(rf"(?<![\w'])(?:in|from|of|released\s+in|made\s+in|year)\s+(?:the\s+)?{Y}")),
    ("point", re.compile(Y)),
]
CONTEXT_NUMBER = re.compile(r"(?<![\w'])(?:in|from|of|year|before|after|since|until|between|pre-?|post-?)\s+(?:the\s+year\s+)?(?P<n>\d{3,6})(?![\w])")
# Not too recent / not too old, said outright (not of a list shown): the complement of "recent" and of "old".
NOT_TOO = re.compile(r"(?<![\w'])(?:nothing|not|none|no)\s+(?:that\s+|so\s+)?too\s+(?:(?P<new>recent|new|modern)|old|dated)(?![\w'])")
RECENT = re.compile(r"(?<![\w'])(?:recent(?:ly\s+released)?|newest|latest|modern|brand[\s-]+new"
                    # the film's release, not the person's viewing ("I recently watched")
                    r"|(?:came|come|comes|coming)\s+out\s+(?:fairly\s+|pretty\s+|quite\s+)?recently|(?:released|made)\s+(?:fairly\s+|pretty\s+|quite\s+)?recently"
                    # films of "the last few years", not a person's own ("I've watched horror in the last few years")
                    r"|(?:from|of|made\s+in|released\s+in|out\s+in)\s+(?:the\s+)?(?:last|past)\s+(?:few|couple(?:\s+of)?|several)\s+years|new(?=\s+(?:movies?|films?|releases?|ones|stuff|flicks?)(?![\w'])))(?![\w'])")
# (a "cult classic" is of any era: "cult" stays a word of the request)
# "old" as an era; not an age ("8 years old", "old enough", "how old"), nor a taste worn out ("never gets old")
OLD = re.compile(r"(?<![\w'])(?:oldies?|(?<!years\s)(?<!year\s)(?<!yrs\s)(?<!months\s)(?<!how\s)(?<!get\s)(?<!gets\s)(?<!got\s)(?<!gotten\s)(?<!getting\s)(?<!grown\s)(?<!grow\s)(?<!growing\s)old(?![\w'-])(?!\s+(?:favou?rites?|friends?|times|days|habits|enough|hat|ones?\s+I))|(?<!cult\s)(?<!cult-)classics?|vintage|golden[\s-]+age|black[\s-]+and[\s-]+white|old[\s-]+school|retro)(?![\w'])")
COORDINATED = re.compile(r"\s*(?:,|\s(?:and|or|&))\s+(?:the\s+)?")  # "comedies and dramas", "westerns, musicals"
# between two eras said in one message: choices ("the 80s, maybe the 90s") or a correction ("the 70s,
# actually make it the 80s"; the later holds)
ERA_CHOICE = re.compile(r"(?<![\w'])(?:or|either|maybe|perhaps|possibly|otherwise)(?![\w'])|/")
ERA_CORRECTION = re.compile(r"(?<![\w'])(?:actually|rather|instead|no\s+wait|wait|scratch\s+that|make\s+(?:it|that)"
                            r"|on\s+second\s+thought|i\s+mean|correction|change\s+(?:it|that)\s+to)(?![\w'])")
OR_BETWEEN = re.compile(r"(?<![\w'])(?:or|either)(?![\w'])")  # two eras as choices: "old classics or recent hits"
AGE = re.compile(r"\d+\s*-?\s*years?\s*-?\s*$")  # "a 10 year old" is about a child, not a film
# Era words that describe an era said rather than bound it ("80s classics", "old 80s movies"); "black
# and white" and "golden age" still bound it
OLD_DESCRIBES = re.compile(r"(?:oldies?|old|classics?|vintage|retro|old[\s-]+school)")
BORN = re.compile(r"(?<![\w'])born\s+in\s+(?:the\s+year\s+)?\d{4}(?![\w'])")  # the person's year, not a film's
OLDER = re.compile(
    r"(?<![\w'])(?:older|earlier(?:\s+ones)?|less\s+recent|not\s+(?:as|so)\s+(?:new|recent)|too\s+(?:recent|new|modern)"
    r"|(?:further|farther)\s+back(?:\s+in\s+time)?|back\s+(?:further|farther)(?:\s+in\s+time)?|back\s+in\s+time)(?![\w'])"
)
NEWER = re.compile(
    r"(?<![\w'])(?:newer|more\s+recent|more\s+modern|less\s+old|not\s+(?:as|so)\s+old|too\s+(?:old|dated|old[\s-]fashioned)"
    r"|less\s+dated|more\s+up[\s-]to[\s-]date|closer\s+to\s+(?:today|now|the\s+present)"
    # said of a list shown: "these look a bit dated", "they all feel so old-fashioned"
    r"|(?:looks?|feels?|seems?|are|is|'re)\s+(?:all\s+)?(?:(?:a\s+)?(?:bit|little|tad|kind\s+of|kinda|sort\s+of|pretty"
    r"|really|so|very|quite|rather|way|super)\s+)*(?:dated|old[\s-]fashioned|ancient))(?![\w'])"
)

POPULAR = re.compile(
    r"(?<![\w'])(?:popular|blockbusters?|well[\s-]known|famous|mainstream|big\s+hits?|crowd[\s-]pleasers?"
    r"|(?:most|many|lots\s+of)\s+people\s+(?:have\s+|'ve\s+)?(?:seen|watched|know|love)|every(?:one|body)\s+(?:has\s+)?(?:seen|knows)"
    r"|widely\s+seen|box[\s-]+office\s+(?:hits?|smash(?:es)?|success(?:es)?)|(?:smash|sleeper|huge|massive|giant)[\s-]+hits?)(?![\w'])"
)
OBSCURE = re.compile(
    r"(?<![\w'])(?:hidden\s+gems?|gems?|obscure|underrated|under[\s-]the[\s-]radar|lesser[\s-]known|little[\s-]known"
    r"|less[\s-]known|not\s+well[\s-]known|overlooked|under[\s-]?appreciated|niche|indie|less\s+obvious|not\s+(?:as|so)\s+obvious"
    r"|(?:most|many)\s+people\s+(?:have\s*n'?t|have\s+not|never|don'?t\s+know)(?:\s+(?:seen|watched|heard\s+of))?"
    r"|(?:few|not\s+many)\s+people\s+(?:have\s+)?(?:seen|watched|know)|nobody\s+(?:has\s+)?(?:seen|knows)"
    # "nobody's heard of", "one I've never heard of": at a clause's end (never "I've never heard of Fargo, is it good?")
    r"|(?:(?:nobody|no\s+one|no-one)(?:\s+has|'s)?|(?:i'?ve|we'?ve|you'?ve|you\s+have|i\s+have)\s+(?:probably\s+|likely\s+)?never)"
    r"\s+heard\s+of(?=\s*(?:[.!?,;]|$|before|yet|please))"
    r"|off\s+the\s+beaten\s+(?:path|track)|deep\s+cuts?|b[\s-]sides?|art[\s-]?house"
    r"|(?:an?|some|those|these)\s+(?:\w+\s+)?forgotten|forgotten\s+(?:classics?|gems?|films?|movies?|ones?)"
    r"|(?:people|folks|anyone|anybody)\s+(?:don'?t|do\s+not|doesn'?t|rarely|never)\s+(?:talk\s+about|mention|remember|know\s+about)"
    r"|(?:no\s+one|nobody)\s+(?:talks\s+about|remembers|mentions|knows\s+about))(?![\w'])"
)
POP_NEG = re.compile(r"(?<![\w'])(?:not|nothing|no|less|never|non)\s+(?:(?:too|so|very|that|really|as|super|overly)\s+)?$")

SEQUEL = re.compile(r"\s+(?:\d{1,2}|ii|iii|iv|v|vi)(?![\w'])")
ROMAN = {"ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6}
TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")
ARTICLE = {"the", "a", "an"}

# ---- how a request relates to the session (SessionPrefs.apply) ------------------------------
# "add": the genres named join the ones asked before ("it should also be a drama", "and a
# thriller", "funnier, but still horror"); a comparative genre word ("funnier", "more drama")
# adds as well. "replace": they take the place of the old ones ("a comedy instead").
ADD = re.compile(
    r"(?<![\w'])(?:also|as\s+well|in\s+addition|additionally|still|both|on\s+top\s+of\s+that|at\s+the\s+same\s+time"
    r"|mixed\s+with|combined\s+with|with\s+(?:some|a\s+(?:bit|touch|dash)\s+of|elements\s+of)"
    r"|too(?=\s*(?:[.!?,;]|$|please)))(?![\w'])"
    r"|^\s*(?:and|plus|but\s+also)(?![\w'])"
)
REPLACE = re.compile(
    r"(?:^|[.!?,;:]\s*)(?:no,?\s+)?actually(?![\w'])"  # at the start: "I actually loved Fargo" replaces nothing
    r"|(?<![\w'])(?:instead(?!\s+of)|rather(?!\s+than)|switch(?:ing)?\s+to|change\s+(?:it\s+)?to"
    r"|make\s+it|let'?s\s+do|now\s+(?:i\s+want|show\s+me))(?![\w'])"
)
COMPARATIVE_BEFORE = re.compile(r"(?<![\w'])(?:more|a\s+bit\s+more|a\s+little\s+more|much\s+more)\s+$")
# A genre no longer wanted: "no more horror", "not a drama anymore", "doesn't have to be a comedy".
DROP_BEFORE = re.compile(
    r"(?<![\w'])(?:no\s+(?:more|longer)|(?:does|do|did)(?:n't|nt|\s+not)\s+(?:have|need)\s+to\s+be|need(?:n't|\s+not)\s+be"
    r"|not\s+necessarily|forget(?:\s+about)?|never\s*mind|drop|enough(?:\s+(?:of|with))?)"
    r"\s+(?:(?:the|a|an|any|so\s+much|more|of)\s+){0,2}$"
)
DROP_AFTER = re.compile(  # used with .match at the end of the genre word
    r"(?:\s+(?:films?|movies?|stuff|ones|please))?\s*(?:any\s*more|any\s+longer)(?![\w'])"
    r"|[^.!?;,]{0,30}?\b(?:is|are)\s+(?:optional|not\s+(?:needed|required|necessary))"
    r"|(?:\s+(?:films?|movies?))?\s+(?:does(?:n't|\s+not)|do(?:n't|\s+not)|is(?:n't|\s+not))\s+(?:matter|important|needed)"
)
# Lifting a constraint altogether ("any year", "the genre doesn't matter").
CLEAR: list[tuple[str, re.Pattern]] = [
    ("years", re.compile(
        r"(?<![\w'])(?:any\s+(?:year|decade|era|time\s+period|release\s+date)s?|(?:the\s+)?(?:year|decade|era|release\s+date)s?\s+"
        r"(?:does(?:n't|\s+not)|do(?:n't|\s+not))\s+matter|no\s+(?:year|date|decade)\s+(?:limit|restriction|filter)s?"
        r"|(?:forget|drop|remove|lose)\s+(?:about\s+)?the\s+(?:years?|decades?|dates?|year\s+(?:limit|filter))"
        r"|(?:from\s+)?whenever|(?:old|older)\s+or\s+new(?:er)?)(?![\w'])")),
    ("genres", re.compile(
        r"(?<![\w'])(?:any\s+genres?|whatever\s+genre|(?:the\s+)?genres?\s+(?:does(?:n't|\s+not)|do(?:n't|\s+not))\s+matter"
        r"|(?:forget|drop|remove|lose)\s+(?:about\s+)?the\s+genres?(?:\s+(?:filter|limit))?|no\s+genre\s+(?:limit|filter)s?)(?![\w'])")),
    ("popularity", re.compile(
        r"(?<![\w'])(?:popular\s+or\s+not|(?:well[\s-]known|famous)\s+or\s+not|popularity\s+(?:does(?:n't|\s+not))\s+matter"
        r"|any\s+popularity)(?![\w'])")),
    ("people", re.compile(r"(?<![\w'])(?:any\s+director|(?:the\s+)?director\s+(?:does(?:n't|\s+not))\s+matter"
                          r"|(?:forget|drop)\s+(?:about\s+)?the\s+director)(?![\w'])")),
    ("rating", re.compile(r"(?<![\w'])(?:any\s+(?:mpaa\s+)?rating|(?:the\s+)?rating\s+(?:does(?:n't|\s+not))\s+matter"
                          r"|rated\s+anything)(?![\w'])")),
    ("runtime", re.compile(r"(?<![\w'])(?:any\s+length|(?:the\s+)?length\s+(?:does(?:n't|\s+not))\s+matter"
                           r"|long\s+(?:ones\s+)?(?:is|are)\s+(?:fine|ok(?:ay)?)|however\s+long)(?![\w'])")),
    ("acclaim", re.compile(r"(?<![\w'])(?:acclaimed\s+or\s+not|(?:the\s+)?reviews\s+(?:do(?:n't|\s+not))\s+matter)(?![\w'])")),
]
# Forgetting a liked title without disliking it: "forget about Fargo".
ITEM_DROP = re.compile(r"(?<![\w'])(?:forget(?:\s+about)?|never\s*mind)\s+(?:(?:the\s+)?(?:film|movie)\s+)?$")

# ---- what the catalog has no data on -----------------------------------------------------------
# ml-100k knows titles, years, genres and viewers, no people. A cue, then the name; names after
# a bare "with" or "by" need capitals ("with Bruce Willis"), so "with a twist" stays a vibe.
NAME = r"(?:[A-Z][\w'.-]*|de|van|von|la|le|del|di|da|du)"
UNFILTERABLE: list[tuple[str, re.Pattern, bool]] = [  # (kind, pattern over the original text, needs capitals)
    ("director", re.compile(
        r"(?i:(?:directed|helmed|made)\s+by|(?:the\s+)?director\s+(?:is\s+)?|(?:a|an)\s+(?:film|movie)\s+by|films?\s+by|movies?\s+by)"
        r"\s+(?P<name>[\w'.-]+(?:\s+[\w'.-]+){0,2})"), False),
    ("cast", re.compile(
        r"(?i:starring|featuring|(?:acted|played)\s+by|with\s+(?:the\s+)?(?:actor|actress)|(?:the\s+)?(?:actor|actress)"
        r"|in\s+which\s+\w+\s+plays?|cast\s+(?:of|with|including))"
        r"\s+(?P<name>[\w'.-]+(?:\s+[\w'.-]+){0,2})"), False),
    ("cast", re.compile(rf"(?i:with|has|having|and)\s+(?P<name>[A-Z][\w'.-]+(?:\s+{NAME}){{0,2}}\s+[A-Z][\w'.-]+)"), True),
    ("director", re.compile(r"(?i:by)\s+(?P<name>[A-Z][\w'.-]+(?:\s+[A-Z][\w'.-]+){0,2})"), True),
    ("director", re.compile(r"(?P<name>[A-Z][\w'.-]+)'s?\s+(?i:(?:new|latest|last|first|best|early|other)\s+)?(?i:films?|movies?)"), True),
]
NAME_STOP = re.compile(r"(?i)\s+(?:in|from|on|at|and|or|but|with|please|movies?|films?|about|that|who|which|for|before|after|since)(?:\s|$).*$")

# ---------------------------------------------------------------------------------------------
# Long-term memory: what makes a taste durable (agent.nodes.remember)
# ---------------------------------------------------------------------------------------------

# The words that make a critique lasting even when the message keeps the rest to the moment.
LASTING = (  # not "it never gets old", "never fails to make me laugh"
    r"never(?!\s+mind)(?!\s+(?:gets?|got|grows?|gotten)\s+(?:old|boring|tiring))(?!\s+(?:fails?|disappoints?|lets?\s+(?:me|us)\s+down))|hate[sd]?|hating|can'?t\s+stand|cannot\s+stand|can\s+not\s+stand|can'?t\s+bear"
    r"|detest|loathe|despise|(?:do\s+not|don'?t)\s+ever|ever\s+again|ever(?=\s*(?:[.!,;]|$))|allergic\s+to"
    r"|for\s+good|forever|for\s+ever|permanently"
)
# A critique ("less romance", "not that one") is the mood of one session; said with one of these
# markers it is a standing taste, remembered across sessions.
DURABLE_AGAINST = re.compile(
    rf"\b(?:{LASTING}|not\s+a\s+fan\s+of|(?:sick|tired)\s+of|fed\s+up|no\s+longer|not\s+any\s*more|outgrown"
    rf"|burn(?:ed|t)\s+out|{TAKEN_BACK}|{WORN_OUT})\b"
)
LASTING_AGAINST = re.compile(rf"\b(?:{LASTING})\b")
# A message that keeps it to the moment ("I'm sick of comedies tonight", "I'm over horror for now"):
# only the lasting words make a critique durable then.
FOR_THE_MOMENT = re.compile(
    r"\b(?:tonight|this\s+(?:time|evening|weekend|once)|for\s+(?:now|the\s+(?:moment|night|evening|weekend))"
    r"|right\s+now|at\s+the\s+moment)\b"
)
DURABLE_FOR = re.compile(
    r"\b(?:i\s+(?:really\s+|just\s+|absolutely\s+)?(?:love|adore)|always|my\s+favou?rites?"
    r"|(?:a\s+)?big\s+fan\s+of|can'?t\s+get\s+enough)\b"
)
MARKER_WORDS = re.compile(r"\b(?:always|never|love|adore|hate|favou?rites?|fan|really|just|absolutely)\b")
MIN_NOTE_WORDS = 2  # a note needs words of its own beyond the markers

# ---------------------------------------------------------------------------------------------
# People's words about themselves and their evening (issue 22): never the text query
# ---------------------------------------------------------------------------------------------

# Who is watching, what day it is, chat: words that say nothing of the film wanted. They leave
# the vibe (a reason "close to 'girlfriend'" would be false), like FILLER.
CHAT = set(
    """
    son sons daughter daughters kid kids kiddo kiddos child children boy boys girl girls baby babies
    toddler toddlers teen teens teenager teenagers twins nephew nephews niece nieces grandkids
    grandchildren grandson granddaughter grandma grandpa grandmother grandfather grandparents mom mum
    mother dad father parents parent wife husband girlfriend boyfriend partner spouse fiance fiancee
    friend friends buddy buddies mate mates roommate roommates family families folks relatives cousin
    cousins brother sister sibling siblings uncle aunt in-laws inlaws laws babysitting babysit
    coworkers colleagues guests people person everyone everybody someone somebody whole group crowd
    little ones yr yrs yo old aged age ages ager birthday anniversary party reunion wedding guests
    tonight tomorrow today yesterday weekend week weekday night nights evening morning afternoon day
    days sunday monday tuesday wednesday thursday friday saturday hour hours minute minutes late early
    work working job office school class home house couch bed sleep asleep tired bored boring
    dinner lunch breakfast cooking cook coffee popcorn snacks pizza wine beer drink drinks
    lol lmao rofl haha hahaha hehe ugh meh hmm idk tbh btw imo rn pls plz thx ty omg wow yay yeah
    yep nope nah sorry thanks thank cool great awesome nice helpful help anyway anyways alright ok okay
    man dude bro guys folks buddy honestly literally basically seriously totally super really
    said say says saying tell telling told keep keeps kept asked asking ask prove suggest
    turning turns turned putting put knocked spilled sit sitting through getting awkward
    name names name's called call me myself i'm we're they're he's she's
    date dates dating netflix chill hangout hang directed director starring featuring actor actress brain rough reply week weeks month months
    zero one two three four five six seven eight nine ten eleven twelve twenty once twice thrice
    while thoughts thought gf bf hope hoping surprise relax relaxing visiting visit taking care safe suitable appropriate
    obsessed sleepover meant typo mondays weekends mood moods vibe shift shifts boss trip flight plane
    together swears swear swore raves rave raving teenage exhausted stressed drained wiped
    """.split()
)
# "date night", "with my parents", "family movie night": an audience, not words to search.
# "with the horror movies" is not an audience: only a person (or people) after "with my / the / our".
PERSON = (r"(?:[\w-]+\s+)?(?:kids?|kiddos?|children|child|family|families|parents?|folks|wife|husband|girlfriend|boyfriend"
          r"|partner|spouse|fianc[ée]e?|friends?|buddy|buddies|mates?|roommates?|mom|mum|mother|dad|father|grand\w+|in-laws"
          r"|sons?|daughters?|boys|girls|brothers?|sisters?|siblings|cousins?|nephews?|nieces?|uncle|aunt|twins|toddlers?"
          r"|teens?|teenagers?|babies|baby|gf|bf|class|group|guests|colleagues|coworkers|team|crew|gang|neighbou?rs?|date)")
AUDIENCE_WORDS = re.compile(
    r"(?<![\w'])(?:date\s+night|(?:first\s+)?date|movie\s+night|family\s+(?:movie\s+)?night|girls'?\s+night"
    rf"|guys'?\s+night|game\s+night|night\s+in|netflix\s+and\s+chill|with\s+(?:my|the|our)\s+{PERSON}(?:\s+and\s+(?:my\s+)?\w+)?"
    rf"|for\s+(?:my|the|our)\s+{PERSON}(?:\s+and\s+(?:my\s+)?\w+)?)(?![\w'])"
)
# A child in the audience: kids, family, "my 7-year-old", "my son is 8", little ones, grandkids.
CHILD_NOUN = (r"kids?|kiddos?|children|child|little\s+ones?|toddlers?|grand[\s-]?kids|grand[\s-]?children"
              r"|grand(?:son|daughter)s?|babies|baby|nephews?|nieces?|tweens?|pre[\s-]?teens?"
              r"|(?:young|little|baby|kid)\s+(?:son|daughter|boy|girl|brother|sister|cousin)s?"
              r"|kindergart(?:e|)ners?|pre[\s-]?schoolers?|grade[\s-]?schoolers?|(?:first|second|third|fourth|fifth|sixth"
              r"|1st|2nd|3rd|4th|5th|6th)[\s-]+graders?|elementary[\s-]+school(?:ers?)?|(?:cub\s+)?scouts|brownies")
# Someone of the family at a child's age: "my little brother is 9", "my twins just turned 8", "my boys (6 and 8)".
KIN = r"son|daughter|boy|girl|kid|child|nephew|niece|grandson|granddaughter|brother|sister|cousin|twins|boys|girls|kids"
CHILD_AGE = r"(?:[1-9]|1[0-2]|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
CHILDREN = re.compile(
    rf"(?<![\w'])(?:(?:my|our|the|his|her|their|two|three|some|a\s+few|with|for|lots\s+of)\s+(?:\w+\s+(?:of\s+)?)?(?:{CHILD_NOUN})"
    rf"|an?\s+(?:class|group|bunch|room|busload|troop|team)\s+(?:full\s+)?of\s+(?:{CHILD_NOUN})"
    rf"|(?:kid|child|family|children)[\s-]*(?:friendly|safe|appropriate|suitable|movies?|films?|flicks?|night)"
    rf"|(?:for|with)\s+(?:the\s+)?(?:whole\s+)?family|famil(?:y|ies)\s+(?:film|movie|friendly|night|fun)s?|whole\s+family"
    rf"|family[\s-]friendly|something\s+(?:the\s+)?(?:kids|children|family)|the\s+(?:kids|children|little\s+ones)"
    rf"|{CHILD_AGE}\s*[-\s]?(?:(?:years?|yrs?|yo)[\s-]*olds?|yo|y/o|yrs?)(?![\w'])|{CHILD_AGE}\s*(?:and|&|or)\s*{CHILD_AGE}\s*[-\s]?(?:years?|yrs?)[\s-]*olds?"
    rf"|(?:{KIN})(?:'s|\s+(?:(?:just|only|who|will|both)\s+)?(?:is|are|'s|'re|who'?s|be|is\s+turning|turning|turned|turn|aged?))"
    rf"\s+(?:only\s+|just\s+|about\s+)?{CHILD_AGE}(?![\d])|(?:she'?s|he'?s|they'?re|she\s+is|he\s+is|they\s+are)\s+(?:only\s+|just\s+)?{CHILD_AGE}(?![\d\w])"
    rf"|(?:{KIN})\s*\(\s*(?:ages?\s+)?{CHILD_AGE}(?:\s*(?:and|&|,|-)\s*{CHILD_AGE})*\s*\)"
    rf"|(?:pre[\s-]?school|kindergarten|kid|child|children)[\s-]+(?:friendly|safe|appropriate|suitable)"
    rf"|(?:kids|children|ones)\s+under\s+(?:the\s+age\s+of\s+)?{CHILD_AGE}(?![\d])|babysit\w*"
    rf"|(?:children'?s|kids'?)\s+(?:birthday\s+)?party|(?:girl|boy|cub)\s+scouts?|(?:scout|brownie)\s+troop"
    rf"|(?:primary|elementary|grade|middle|nursery|pre)[\s-]*school(?:ers?|\s+(?:class|kids|children|students|group|trip)\w*)?"
    rf"|school[\s-]?(?:kids|children)|for\s+(?:young|little)\s+(?:kids|ones|children|viewers))(?![\w'])"
)
# Children mentioned but not watching: "put the kids to bed", "the kids are asleep", "without the kids".
CHILDREN_AWAY = re.compile(
    r"(?<![\w'])(?:kids?|children|little\s+ones)\s+(?:(?:are|is)\s+)?(?:to\s+bed|in\s+bed|asleep|sleeping|at\s+\w+'?s?|away|out)"
    r"|(?:without|no)\s+(?:the\s+)?(?:kids|children)(?!'?s?\s*(?:movies?|films?|stuff|shows?|flicks?))|kid[\s-]?free|adults?\s+only|grown[\s-]?ups?\s+only"
    r"|(?:kids|children|son|daughter|boys|girls)\s+(?:are|is)\s+(?:(?:all\s+)?grown(?:\s+up)?|adults?|teens|teenagers|in\s+college)"
)
# The person's own past, not who watches: "I loved horror as a kid", "growing up we watched westerns".
PAST_SELF = re.compile(
    r"(?<![\w'])(?:(?:as|when\s+i\s+was|since\s+i\s+was|back\s+when\s+i\s+was|ever\s+since\s+i\s+was)\s+a\s+"
    r"(?:little\s+|young\s+|small\s+)?(?:kid|child|teen(?:ager)?|boy|girl)|growing\s+up|in\s+my\s+(?:childhood|teens|youth)"
    r"|since\s+childhood)(?![\w'])"
)
# Lifting the children audience: "it's just me now", "for adults", "the kids went to bed".
AUDIENCE_LIFT = re.compile(
    r"(?<![\w'])(?:(?:it'?s\s+)?just\s+(?:me|us)(?:\s+(?:now|tonight))?|(?:for|only)\s+(?:the\s+)?adults?(?:\s+(?:now|only))?"
    r"|grown[\s-]?ups?(?:\s+(?:only|now))?|kids?\s+(?:are|went|have\s+gone)\s+(?:to\s+bed|asleep|to\s+sleep|away|out)"
    r"|(?:kids|children)\s+are\s+(?:in\s+bed|asleep)|(?:no|without)\s+(?:the\s+)?kids\s+(?:now|tonight)|adults?\s+only"
    r"|any\s+audience|not\s+just\s+for\s+(?:the\s+)?(?:kids|children)|not\s+for\s+(?:the\s+)?(?:kids|children)\s+(?:any\s*more|now))(?![\w'])"
)

# ---- film knowledge a person asks by: rating, running time, acclaim ----------------------------
RATINGS = ("G", "PG", "PG-13", "R", "NC-17")
RATING = r"(?P<r>g|pg[\s-]?13|pg|r|nc[\s-]?17)"
MAX_RATING = [  # (pattern, how the rating named relates: "at-most" it or "below" it)
    (re.compile(rf"(?<![\w'])(?:rated\s+)?{RATING}(?:[\s-]?rated)?\s+(?:or\s+(?:below|less|lower|milder|under|softer|tamer)"
                rf"|at\s+most|max(?:imum)?|tops)(?![\w'])"), "at-most"),
    (re.compile(rf"(?<![\w'])(?:at\s+most|max(?:imum)?|no\s+(?:more|higher|worse)\s+than|up\s+to)\s+(?:rated\s+)?{RATING}(?![\w'])"), "at-most"),
    (re.compile(rf"(?<![\w'])(?:nothing|not|no|never)\s+(?:rated\s+)?{RATING}(?:[\s-]rated)?(?![\w'])"), "below"),
    (re.compile(rf"(?<![\w'])(?:nothing|no)\s+(?:above|over|higher\s+than|stronger\s+than)\s+(?:rated\s+)?{RATING}(?![\w'])"), "at-most"),
    (re.compile(rf"(?<![\w'])rated\s+{RATING}(?![\w'])"), "at-most"),
    (re.compile(rf"(?<![\w']){RATING}[\s-]rated(?![\w'])"), "at-most"),
    (re.compile(rf"(?<![\w'])(?:only\s+)?{RATING}(?=\s+(?:movies?|films?|only|please|stuff|comed(?:y|ies)|ones)(?![\w']))"), "at-most"),
]
RUNTIME = re.compile(
    r"(?<![\w'])(?:under|less\s+than|shorter\s+than|(?:no|not|nothing)\s+(?:more|longer)\s+than|at\s+most|max(?:imum)?|within"
    r"|below|(?:not|nothing)\s+over)"
    r"\s+(?:an?\s+)?(?P<n>\d+(?:\.\d)?|an?|one|two|three|half)\s*(?P<half>and\s+a\s+half\s+)?(?P<unit>hours?|hrs?|h|minutes|mins?|m)"
    r"(?P<half_after>\s+and\s+a\s+half)?(?![\w'])"  # "under an hour and a half"
    r"|(?P<n2>\d+(?:\.\d)?)\s*(?P<unit2>hours?|hrs?|h|minutes|mins?|m)\s+(?:max(?:imum)?|tops|or\s+(?:less|shorter|under)|at\s+most)(?![\w'])"
    r"|(?P<short>short(?:er)?|quick|(?:not|nothing)\s+(?:too\s+|very\s+|that\s+)?long|brief)(?=\s+(?:one|movie|film|watch|thing|please|[.!?,]|$))"
)
SHORT_MINUTES = 100  # "something short": at most this long
ACCLAIMED = re.compile(
    r"(?<![\w'])(?:critically[\s-]+acclaimed|acclaimed|award[\s-]+winn(?:ing|ers?)|oscar[\s-]+winn(?:ing|ers?)|oscar[\s-]worthy"
    r"|(?:highly|well|top)[\s-]+rated|best[\s-]+reviewed|great\s+reviews|good\s+reviews|critics?\s+(?:loved|liked|love|like|praised)"
    r"|masterpieces?|must[\s-]+sees?|(?:all[\s-]time\s+)?greats?(?=\s+(?:movies?|films?))|classics\s+everyone\s+loves)(?![\w'])"
)
# Limits on what the catalog knows of films, as data: (Constraints field, reader, pattern), read in
# this order, each match taking its words. Readers (agent/aspects.py: READERS): "rating-at-most" /
# "rating-below" (the MPAA rating in group r), "minutes" (a length in hours or minutes, or "short"),
# "flag" (said: true). A new kind over a film-knowledge field that reads like one of these is a row.
KNOWLEDGE: list[tuple[str, str, re.Pattern]] = [
    *(("max_rating", f"rating-{how}", pattern) for pattern, how in MAX_RATING),
    ("max_runtime", "minutes", RUNTIME),
    ("acclaimed", "flag", ACCLAIMED),
]

# ---- questions about one film: which kind ----------------------------------------------------
QUESTION_KIND: list[tuple[str, re.Pattern]] = [  # first match wins
    ("director", re.compile(r"(?<![\w'])(?:who\s+(?:directed|made|helmed)|director|directed\s+by\s+who(?:m)?)(?![\w'])")),
    ("cast", re.compile(r"(?<![\w'])(?:who(?:'s|\s+is|\s+was|\s+are|\s+were)?\s+(?:in|starring)|who\s+(?:stars|starred|acts|plays)"
                        r"|cast|actors?|actress(?:es)?|starring)(?![\w'])")),
    ("runtime", re.compile(r"(?<![\w'])(?:how\s+long|running\s+time|run\s*time|length|how\s+many\s+(?:minutes|hours))(?![\w'])")),
    ("rating", re.compile(r"(?<![\w'])(?:rated|rating|mpaa|pg|ok(?:ay)?\s+for\s+(?:kids|children|a\s+\d+)|appropriate|suitable"
                          r"|age[\s-]?appropriate|for\s+kids)(?![\w'])")),
    ("scary", re.compile(r"(?<![\w'])(?:scary|scar(?:e|es)\b|frightening|creepy|too\s+(?:scary|intense)|horror)(?![\w'])")),
    ("year", re.compile(r"(?<![\w'])(?:when\s+(?:did|was)|what\s+year|how\s+old\s+is|released|come\s+out|came\s+out)(?![\w'])")),
    ("reviews", re.compile(r"(?<![\w'])(?:any\s+good|good\??$|worth\s+(?:it|watching|seeing|a\s+watch)|reviews?|critics?"
                           r"|(?:think|make)\s+(?:of|about)|thoughts\s+(?:on|about)|your\s+(?:take|opinion|verdict)"
                           r"|rotten\s+tomatoes|imdb|how\s+(?:good|well)|score)(?![\w'])")),
    ("genre", re.compile(r"(?<![\w'])(?:what\s+(?:kind|sort|type)\s+of|genre|what\s+is\s+it\s+like)(?![\w'])")),
    ("plot", re.compile(r"(?<![\w'])(?:about|plot|story|synopsis|summary|premise|describe|tell\s+me)(?![\w'])")),
]
# A question about a shown or named film with no cue ASK finds: "is it scary?", "how long is it",
# "what's it rated?", "who directed it?", "who's in the last one?".
ASK_QUESTION = re.compile(
    r"(?<![\w'])(?:is|was|are)\s+(?P<obj>it|that(?:\s+one)?|this(?:\s+one)?|the\s+\w+\s+one|[^?.!,;]{1,60}?)\s+"
    r"(?:any\s+good|good|worth\s+(?:it|watching|seeing|a\s+watch)|(?:too\s+)?scary|(?:actually\s+)?scary|(?:ok(?:ay)?|appropriate|suitable|fine)\s+for)"
    r"|how\s+long\s+is\s+(?P<obj2>[^?.!,;]{1,60}?)(?=\s*(?:[?.!,;]|$))"
    r"|what(?:'s|\s+is|\s+was)\s+(?P<obj3>[^?.!,;]{1,60}?)\s+rated"
    r"|who(?:'s|\s+is)?\s+(?:directed|made|in|starring\s+in|stars\s+in)\s+(?P<obj4>[^?.!,;]{1,60}?)(?=\s*(?:[?.!,;]|$))"
    r"|when\s+did\s+(?P<obj5>[^?.!,;]{1,60}?)\s+come\s+out"
    r"|what\s+(?:kind|sort|type)\s+of\s+(?:movie|film)\s+is\s+(?P<obj6>[^?.!,;]{1,60}?)(?=\s*(?:[?.!,;]|$))"
    r"|what(?:'s|\s+is)\s+the\s+(?:plot|story|premise)\s+of\s+(?P<obj7>[^?.!,;]{1,60}?)(?=\s*(?:[?.!,;]|$))"
    r"|what\s+did\s+(?:the\s+)?(?:critics|reviewers|people)\s+(?:say|think)\s+(?:about|of)\s+(?P<obj8>[^?.!,;]{1,60}?)(?=\s*(?:[?.!,;]|$))"
)

# ---- people ------------------------------------------------------------------------------------
# Actors people name, well known for films of the catalog's years (ml-100k has no cast: they are
# recognised as people, said back, and never read as titles or words). Directors come from the
# catalog's own knowledge (tools.metadata), not from here.
ACTORS = """
Tom Hanks|Brad Pitt|Harrison Ford|Meg Ryan|Julia Roberts|Tom Cruise|Denzel Washington|Morgan Freeman
|Jack Nicholson|Al Pacino|Robert De Niro|Marlon Brando|Clint Eastwood|John Wayne|James Stewart|Jimmy Stewart
|Cary Grant|Audrey Hepburn|Katharine Hepburn|Humphrey Bogart|Ingrid Bergman|Marilyn Monroe|Grace Kelly
|Bette Davis|Judy Garland|Fred Astaire|Gene Kelly|Charlie Chaplin|Buster Keaton|Gregory Peck|Paul Newman
|Robert Redford|Steve McQueen|Dustin Hoffman|Meryl Streep|Sigourney Weaver|Jodie Foster|Susan Sarandon
|Michelle Pfeiffer|Sandra Bullock|Nicole Kidman|Kevin Costner|Kevin Spacey|Kevin Bacon|Mel Gibson
|Bruce Willis|Arnold Schwarzenegger|Sylvester Stallone|Jean-Claude Van Damme|Jackie Chan|Bruce Lee
|Keanu Reeves|Johnny Depp|Leonardo DiCaprio|Matt Damon|Ben Affleck|Will Smith|Eddie Murphy|Jim Carrey
|Robin Williams|Steve Martin|Bill Murray|Chevy Chase|Adam Sandler|Mike Myers|Dan Aykroyd|John Candy
|Goldie Hawn|Whoopi Goldberg|Danny DeVito|Michael Douglas|Kirk Douglas|Sean Connery|Roger Moore
|Pierce Brosnan|Anthony Hopkins|Emma Thompson|Kate Winslet|Hugh Grant|Colin Firth|Kenneth Branagh
|Gwyneth Paltrow|Cameron Diaz|Drew Barrymore|Winona Ryder|Uma Thurman|John Travolta|Samuel L. Jackson
|Samuel Jackson|Nicolas Cage|Nic Cage|John Cusack|Tim Robbins|Gene Hackman|Sean Penn|Gary Oldman
|Christopher Walken|Wesley Snipes|Laurence Fishburne|Val Kilmer|Kurt Russell|Patrick Swayze|Demi Moore
|Sharon Stone|Michael Keaton|Jack Lemmon|Walter Matthau|Shirley MacLaine|Elizabeth Taylor|Sophia Loren
|Peter Sellers|Alec Guinness|Peter O'Toole|Richard Burton|Anthony Perkins|Janet Leigh|James Dean
|Henry Fonda|Jane Fonda|Spencer Tracy|Sidney Poitier|Orson Welles|Woody Harrelson|Geena Davis
|Ralph Fiennes|Liam Neeson|Daniel Day-Lewis|Juliette Binoche|Helen Hunt|Holly Hunter|Cher|Madonna
|Antonio Banderas|Andy Garcia|Tommy Lee Jones|Harvey Keitel|Steve Buscemi|Frances McDormand|Joe Pesci
|Ray Liotta|Robert Duvall|Diane Keaton|Mia Farrow|Glenn Close|Jessica Lange|Kathy Bates|Annette Bening
|Warren Beatty|Faye Dunaway|Jeff Bridges|Jeff Goldblum|Laura Dern|Sam Neill|Bill Paxton|Ed Harris
|Russell Crowe|Cate Blanchett|Halle Berry|Angela Bassett|Whitney Houston|Macaulay Culkin|Kevin Kline
|Jamie Lee Curtis|Michelle Yeoh|Chow Yun-Fat|Vincent Price|Boris Karloff|Bela Lugosi|Christopher Lee
|Peter Cushing|Lauren Bacall|Rita Hayworth|Greta Garbo|Clark Gable|Vivien Leigh|Errol Flynn|Groucho Marx
|Marx Brothers|Laurel and Hardy|Leslie Nielsen|Rick Moranis|Billy Crystal|Dustin Hoffman|Emma Stone
|Ryan Gosling|Scarlett Johansson|Jennifer Lawrence|Chris Pratt|Margot Robbie|Tom Hardy|Christian Bale
"""
ACTOR_NAMES = sorted({n.strip() for n in ACTORS.replace("\n", "").split("|") if n.strip()}, key=len, reverse=True)
# First names that, capitalised and followed by a capitalised word, make a person's name ("Jessica",
# "Dave", "Priya" alone are a friend's name: left out of the vibe, not searched).
PERSON_CUE = re.compile(
    r"(?<![\w'])(?:my\s+name(?:'s|\s+is)|i'?m|i\s+am|this\s+is|call\s+me|(?:my|our)\s+(?:friend|buddy|mate|brother|sister"
    r"|cousin|wife|husband|girlfriend|boyfriend|partner|son|daughter|mom|mum|dad|kid|roommate|colleague|boss)(?:\s+named)?)"
    r"\s+(?P<name>[A-Z][a-z]+)(?![\w'])"
)
# A negation right before an audience or a tone word: "no kids' movies", "nothing too dark".
NEG_AUDIENCE = re.compile(r"(?<![\w'])(?:no|not|nothing|without|never)\s+(?:\w+\s+)?$")
TONE_NEG = re.compile(
    r"(?<![\w'])(?:not|nothing|no|less|without|never|isn'?t|aren'?t|too\s+much)\s+(?:(?:too|so|very|overly|super|that|as"
    r"|really|remotely|even|at\s+all|anything|something)\s+){0,2}$"
)
# Given names: a capitalised one alone is a friend's name ("Tom said you were good at this").
FIRST_NAMES = set(
    """
    tom dave david john mike michael chris sarah jessica jen jenny emily emma anna maria mary james
    jim bob rob robert will bill steve steven paul peter mark matt matthew dan daniel sam alex kate
    katie lisa laura amy rachel priya raj ali omar fatima mohammed ahmed yuki ken kenji li wei chen
    carlos juan jose luis ana sofia lucas leo max ben jack jake josh ryan tyler kevin brian jason
    nick tony joe joey liz beth megan hannah olivia mia noah liam ethan sophie chloe zoe lucy grace
    """.split()
)
# "already seen", "I've watched", "I know X by heart" right before a title or reference.
SEEN_BEFORE = re.compile(r"(?<![\w'])(?:already|have|i'?ve|we'?ve|just)\s+(?:seen|watched|saw|finished)\s+(?:(?:the|that)\s+)?$"
                         r"|(?<![\w'])know\s+(?:(?:the|that)\s+)?$")
# The genre as the subject of a predicate against it ("drama's not for me these days", "comedy just
# isn't what I'm after", "westerns wear me out", "horror does nothing for me now", "sci-fi has stopped
# doing it for me"): the verb right after the genre word (its noun after it: "war films"). The
# predicate ends its clause or is followed only by _SUBJECT_TAIL's words (not "westerns did nothing
# for me as a kid", "thrillers are exhausting in the best way"), and nothing after it in the sentence
# takes the genre up again (TAKEN_UP: "horror is exhausting but I love it", "comedy's not really my
# thing, but tonight I want one", "westerns weren't my thing growing up, but I love them now").
_ADVERBS = r"(?:(?:just|really|honestly|kind\s+of|kinda|sort\s+of|a\s+bit|so|pretty\s+much|totally|simply|actually|now|lately)\s+)*"
_ADVERBS_NOT = r"(?:(?:really|honestly|exactly|quite|at\s+all)\s+)*"  # not "just": "isn't just for me"
_US = r"(?:me|us)"
_SUBJECT_NEG = (  # after "is not", "weren't", "'s not"
    r"(?:what\s+(?:i'?m|we'?re|i\s+am|we\s+are)\s+(?:after|looking\s+for|in\s+the\s+mood\s+for|into|craving|feeling)"
    rf"|(?:my|our)\s+(?:thing|scene|style|jam|bag|cup\s+of\s+tea)|for\s+{_US}|doing\s+(?:it|much|anything)\s+for\s+{_US}"
    rf"|working\s+for\s+{_US})"
)
_SUBJECT_BE = (  # after "is", "was", "'s"
    rf"(?:the\s+last\s+thing\s+(?:i|we)\s+(?:want|need|feel\s+like)|(?:a\s+(?:bit|little)\s+)?(?:too\s+)?much\s+for\s+{_US}"
    r"|(?:a\s+)?(?:chore|drag|slog)|exhausting|draining|tiring|tiresome"
    # a refusal as the predicate: "westerns are a hard no", "horror is a no-go", "musicals are out"
    r"|(?:a\s+)?(?:(?:hard|firm|definite|big|total|flat|strict|solid|clear)\s+)?(?:no(?:[\s-]go)?|nope|pass)"
    r"|off\s+the\s+table|out\s+of\s+the\s+question|(?:a\s+)?deal[\s-]?breaker|out"
    r"|something\s+(?:i'?ve|we'?ve|i|we)\s+(?:moved\s+(?:past|on\s+from)|outgrown|grown\s+out\s+of))"
)
_SUBJECT_VERB = (  # any tense
    rf"(?:(?:has|have)\s+)?(?:(?:wears?|wore|worn|tires?|tired|wipes?|wiped|drains?|drained)\s+{_US}\s+out"
    rf"|(?:gets?|got|gotten|brings?|brought|drags?|dragged)\s+{_US}\s+down|(?:leaves?|left)\s+{_US}\s+cold"
    rf"|turn(?:s|ed)?\s+{_US}\s+off|drag(?:s|ged)?(?:\s+on)?|(?:feels?|felt)\s+like\s+(?:a\s+)?(?:chore|homework|work|slog)"
    rf"|(?:does|do|did)\s+nothing\s+for\s+{_US}|stopped\s+(?:doing\s+it|doing\s+anything|working|appealing)"
    r"|no\s+longer\s+(?:appeals?|works?|interests?|excites?|grabs?))"
)
_SUBJECT_TAIL = (
    r"(?:\s*,?\s*(?:for\s+(?:me|us)|to\s+(?:me|us)|(?:these|those)\s+days|nowadays|now|lately|any\s*more|any\s+longer"
    r"|at\s+the\s+moment|right\s+now|tonight|at\s+this\s+point|honestly|really|though|a\s+while\s+ago|for\s+good))*"
    r"\s*(?=[.!?,;]|$|(?:but|and|so)(?![\w']))"
)
SUBJECT_BEFORE = re.compile(  # the genre opens its clause: only these before it
    r"\s*(?:(?:ok|okay|well|so|hmm+|honestly|and|but|oh|also|now|yeah|sorry|ugh|meh|to\s+be\s+honest)\s*,?\s*)*"
    r"(?:(?:the|a|an|all\s+the)\s+)?"
)
SUBJECT_AGAINST = re.compile(
    r"(?:\s+(?:films?|movies?|stuff|things?))?(?:"
    rf"(?:'s|'re|\s+{_ADVERBS}(?:is|are|was|were))(?:(?:n't|\s+not)\s+{_ADVERBS_NOT}{_SUBJECT_NEG}|\s+{_ADVERBS}{_SUBJECT_BE})"
    rf"|\s+{_ADVERBS}{_SUBJECT_VERB})(?![\w'])"
    + _SUBJECT_TAIL
)
# The genre taken up again later in the message, by the person or someone with them ("but I love it",
# "I'd still watch a good one", "my wife loves them", "give me one", "in the best way"): a pronoun or
# "one" as the object, so not "I want a comedy", and no negation before the verb ("I don't want one").
_IT = r"(?:it|them|those|these|(?:this|that)\s+one|one|some|a\s+few|more|(?:a|another)\s+(?:\w+\s+){0,2}one)"
TAKEN_UP = re.compile(
    r"(?<![\w'])(?<!n't\s)(?<!not\s)(?<!never\s)(?:(?:i|we)(?:'d|'ll|\s+would|\s+will)?\s+(?:still\s+|really\s+|do\s+)?"
    rf"(?:love|adore|enjoy|like|want|watch)|loves?|adores?|enjoys?|likes?|wants?|begged\s+for|(?:give|find|show)\s+(?:me|us))\s+{_IT}"
    r"(?![\w'])|(?<![\w'])(?:hooked|ready\s+for|worth\s+it|in\s+(?:a|the)\s+(?:good|best)(?:\s+possible)?\s+way|that'?s\s+the\s+point"
    r"|another\s+(?:one|chance|try|shot)|favou?rite|back\s+(?:on|into)\s+(?:it|them)|(?:one|ones)\s+(?:is|are)\s+fine"
    r"|looks?\s+(?:good|great|fun|interesting|nice))(?![\w'])"
)
# Said after a genre, against it: "documentaries bore me", "romantic comedy no", "westerns aren't my thing".
GENRE_NEG_AFTER = re.compile(
    r"(?:\s+(?:films?|movies?|stuff|things?))?\s*(?:,\s*)?(?:no(?=\s*(?:[.!?,;]|$))|nope|(?:are|is)\s+(?:so\s+)?boring"
    r"|(?:bore|bores|depress|depresses|scare|scares|upset|upsets|annoy|annoys|exhaust|exhausts|stress|stresses)\s+(?:me|us)"
    r"|(?:are|is)\s+(?:way\s+|just\s+|always\s+)?too\s+\w+|(?:are|is)\s+(?:so\s+)?(?:depressing|stressful|dull|annoying|cheesy)"
    r"|put\s+me\s+to\s+sleep|(?:are|is)(?:n't|\s+not)\s+(?:really\s+)?(?:my|our)\s+(?:thing|cup\s+of\s+tea)"
    r"|suck|(?:are|is)\s+overrated|(?:i|we)\s+(?:can'?t|cannot)\s+stand"
    r"|(?:just\s+|really\s+)?(?:are|is)(?:n'?t|\s+not)\s+(?:really\s+|just\s+)?for\s+(?:me|us)"
    r"|[?,.]?\s*(?:(?:meh|nah|ugh)\s*,?\s*)?over\s+(?:them|it|those)(?![\w'])"
    r"|(?:are|is)(?:n'?t|\s+not)\s+(?:really\s+)?doing\s+(?:it|much|anything)\s+for\s+(?:me|us)"
    rf"|,?\s*(?:(?:i'?ve|we'?ve|i'?m|we'?re|i|we)\s+)?(?:{TAKEN_BACK}|(?:sick|tired)\s+of)\s+(?:them|it|those|that)(?![\w'])"
    r"|\s+behind(?=\s*(?:[.!?,;]|$|(?:me|us|now|for)(?![\w'])))"
    r"|(?:just\s+|really\s+)?(?:don'?t|doesn'?t|do\s+not|does\s+not|no\s+longer)\s+(?:really\s+)?(?:do\s+(?:it|much|anything)\s+for|excites?|interests?|grabs?|thrills?|appeals?\s+to)\s+(?:me|us)"
    rf"|(?:'s|'ve)?\s*(?:(?:has|have)\s+)?(?:{WORN_OUT})|(?:-?ed|'d)\s+out"
    # "thrillers? nah, not anymore", "liked westerns once, not now" (where the clause ends: not "not any
    # more than 2 hours", "not these days' CGI stuff")
    r"|(?:\s+once)?\s*[?,.]?\s*(?:(?:meh|nah|ugh|but)\s*,?\s*)?not\s+(?:any\s*more|now|these\s+days)(?=\s*(?:[.!?,;]|$))"
    r"|(?:were|was|used\s+to\s+be)\s+(?:my|our)\s+(?:thing|jam|go-to|favou?rite)"
    r"(?=[^.!?;]*\b(?:not\s+any\s*more|no\s+longer|not\s+(?:now|these\s+days)|now\s+(?:they|it)(?:'re|'s|\s+are|\s+is)\s+not)\b)"
    # "a horror phase in college, but that's behind me", "my western days are over"
    r"|(?:phase|days|era|kick|stage)(?=[^.!?;]{0,40}?\b(?:but|and)\s+(?:that|it)(?:'s|\s+is|\s+was|\s+has)\s+(?:(?:long|well|all)\s+)?"
    r"(?:over|behind|done|passed|gone)\b)|\s+(?:phase|days|era|kick|stage)\s+(?:are|is|was|were)\s+(?:long\s+|well\s+)?(?:over|behind\s+(?:me|us)|done|gone)"
    # "keep the sci-fi away", "horror, keep it out of tonight"
    r"|away(?:\s+from\s+(?:me|us))?(?!\s+(?:from|at)\s)|(?:keep|leave)\s+(?:it|them|those|that)\s+(?:out|away)"
    r"|out(?=\s*(?:[.!?,;]|$|please|tonight))|out\s+of\s+(?:it|this|tonight|here|the\s+(?:list|mix)))(?![\w'])"
)
# A misspelt genre ("comdy", "thriler"): a word this close to one of these is that genre.
GENRE_SPELLINGS = {
    "action": "Action", "adventure": "Adventure", "adventures": "Adventure", "animation": "Animation",
    "animated": "Animation", "comedy": "Comedy", "comedies": "Comedy", "documentary": "Documentary",
    "documentaries": "Documentary", "drama": "Drama", "dramas": "Drama", "fantasy": "Fantasy", "horror": "Horror",
    "musical": "Musical", "musicals": "Musical", "mystery": "Mystery", "mysteries": "Mystery", "romance": "Romance",
    "romantic": "Romance", "thriller": "Thriller", "thrillers": "Thriller", "western": "Western", "westerns": "Western",
    "science": "Sci-Fi", "crime": "Crime", "cartoon": "Animation", "cartoons": "Animation",
}
GENRE_TYPO_MIN = 80  # rapidfuzz ratio (0-100) for a misspelt genre word of five letters or more
# A person's name with a cue the catalog has no table for: "a thing for Jude Law", "what has Carrie
# Fisher done", "Sergio Leone westerns" (two capitalised words; not a title; not everyday words).
PERSON_NAME = re.compile(
    r"(?:(?<=thing\sfor\s)|(?<=fan\sof\s)|(?<=has\s)|(?<=with\s)|(?<=into\s)|(?<=love\s)|(?<=like\s)|(?<=by\s)"
    r"|(?<=starring\s)|(?<=featuring\s)|^)(?P<name>[A-Z][a-z]+(?:\s+[A-Z][a-z']+){1,2})"
    r"(?=(?:\s+\w+)?\s+(?:movies?|films?|flicks?|stuff|westerns?|comed(?:y|ies)|thrillers?|dramas?|horrors?|done|did|made)"
    r"|\s*(?:[.!?,;]|$)|\s+(?:lately|recently|please))"
)
CAST_BEFORE = re.compile(r"(?i)(?:starring|featuring|with|has|having|actors?|actress|stars?|starred\s+by|played\s+by)\s+$")
DIRECTOR_BEFORE = re.compile(r"(?i)(?:(?:directed|made|helmed)\s+by|(?:films?|movies?|something|anything)\s+by|director)\s+$")
# A clause that asks for nothing (no film word, genre, title, tone or request word) is small talk
# ("just got home from a long shift, need a comedy"): its words leave the vibe.
REQUEST_WORDS = re.compile(
    r"(?<![\w'])(?:movies?|films?|flicks?|something|anything|watch|watching|recommend\w*|suggest\w*|want\w*|need"
    r"|looking|show|give|about|like|with|where|set\s+in|involving|featuring|story|stories|plot|into|love|loves|enjoy"
    r"|fan|crave|craving|mood)(?![\w'])"
)
# Where the topic of a request sits in a clause that asks: after "something with/about", "a movie
# where", "set in", "loves", "into"; the word right after "something" ("something smart"); the two
# words before a film noun or a genre word ("boxing movies", "a gritty crime film"). The other words
# of an asking clause say who asks and why ("celebrating with an action movie"), not what about.
THING = r"(?:something|anything|movies?|films?|flicks?|ones?|stuff|kind|sort|type|stor(?:y|ies)|documentar(?:y|ies)|shows?)"
TOPIC_LEAD = re.compile(
    # a film noun or a genre word, then what it is about: "a comedy about a painter"
    rf"(?<![\w'])(?:(?:{THING}|{GENRE_WORD.pattern})(?:\s+[\w'-]+){{0,2}}?\s+(?:with|about|featuring|involving|where|in\s+which|that|which|who|on)"
    r"|set\s+(?:in|on|during|at|around|among)|takes?\s+place\s+(?:in|on|during|at)|based\s+on|lots\s+of|full\s+of"
    rf"|plenty\s+of|{CROSSED}|loves?|likes?|into|obsessed\s+with|crazy\s+about|mood\s+for|fan\s+of|craving|crave)(?![\w'])"
)
FILM_NOUN = re.compile(r"(?<![\w'])(?:movies?|films?|flicks?|stuff|ones?|stor(?:y|ies)|documentar(?:y|ies))(?![\w'])")
AFTER_THING = re.compile(r"(?<![\w'])(?:something|anything)\s+(?P<w>[^\W\d_][\w'-]*)")
PREMODIFIERS = 2  # words before a film noun or a genre word that may say what about
# A clock time or a count with its unit says when or how many, not what about ("3am", "2hrs").
NUMBERISH = re.compile(r"\d+(?:st|nd|rd|th|s|am|pm|h|hrs?|min|mins|yo|k)?")
# Set phrases that say how often or how well, not what about: "by heart", "like ten times".
IDIOMS = re.compile(
    r"(?<![\w'])(?:by\s+heart|(?:like\s+)?(?:a\s+)?(?:\d+|two|three|five|ten|twenty|fifty|hundred|million|billion|zillion)"
    r"\s+times|over\s+and\s+over(?:\s+again)?|on\s+repeat|back\s+to\s+back)(?![\w'])"
)
# How the person is or what their day was (or what they think of us): a clause saying it asks for
# nothing, even alone.
SPEAKER_STATE = re.compile(
    r"(?<![\w'])(?:you'?re|you\s+are|you\s+rock|i'?m|i\s+am|i\s+was|i'?ve\s+been|i\s+feel|feeling|we'?re|we\s+are|we\s+were|we'?ve\s+been"
    r"|(?:i|we)\s+just\s+(?:got|finished|came|had|spent|worked)|(?:long|rough|hard|tough|busy|crazy)\s+(?:day|week|shift|night))"
    r"(?![\w'])"
)
# The choice left to us: a list of what most people like, rather than a question back.
ANYTHING = re.compile(
    r"(?<![\w'])(?:surprise\s+(?:me|us)|you\s+(?:pick|choose|decide)|dealer'?s\s+choice|anything\s+(?:is\s+fine|goes|works)"
    r"|whatever\s+you\s+(?:think|recommend|like|want)|(?:it'?s\s+)?up\s+to\s+you|(?:i\s+)?don'?t\s+(?:really\s+)?care"
    r"|no\s+preference|just\s+(?:pick|give\s+me)\s+(?:something|anything))(?![\w'])"
)
