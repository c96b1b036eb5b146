"""Words the claim check reads: folding and stemming, lists of words that never (or always)
matter, negations, hedges, and small hand-written tables of synonyms and opposites."""

from __future__ import annotations

from gptbuilder.language import fold, stem

__all__ = ["fold", "stem"]  # with the tables below; claims and facts import them from here

NAME_ENTS = frozenset("PERSON NORP FAC ORG GPE LOC PRODUCT EVENT WORK_OF_ART LAW LANGUAGE".split())
CONTENT_POS = frozenset(("NOUN", "PROPN", "VERB", "ADJ", "ADV", "NUM"))
# Words whose absence from the span never changes what a claim asserts.
LIGHT = frozenset(
    """be have do say state mention write note call know also well very really just even
    still about around approximately roughly nearly almost some many much several various
    certain specific particular thing way part kind type one ones use used using include
    including includes included according document documents source sources text passage
    show shows showed shown indicate describe described make made take taken get got become
    became generally usually often typically mainly mostly largely primarily especially
    actually basically simply already respectively overall there here""".split()
)
# Words that change what a claim asserts: never allowed to be missing from the span.
HARD_WORDS = frozenset(
    """only all every each none always never first last largest smallest biggest highest
    lowest longest shortest oldest youngest most least best worst earliest latest sole
    entire whole every exclusively solely sometimes rarely seldom twice once because due
    therefore thus hence consequently prove proves proved proven confirm confirms confirmed
    definitely certainly certain undoubtedly clearly guaranteed""".split()
)
NEGATIONS = frozenset(
    "not n't no never none nobody nothing neither nor without cannot nowhere".split()
)
EXCEPTS = frozenset("except excluding besides".split())
MODALS = frozenset("may might could can possibly perhaps probably likely unlikely maybe".split())
PRONOUNS = frozenset(
    "i you he she it we they this that these those who which what whom whose there one".split()
)
MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# Small hand-written synonym table (both directions); stems are compared, so one form each.
_SYNONYM_PAIRS = [
    ("big", "large"),
    ("large", "major"),
    ("small", "little"),
    ("begin", "start"),
    ("begin", "commence"),
    ("end", "finish"),
    ("end", "conclude"),
    ("buy", "purchase"),
    ("build", "construct"),
    ("build", "erect"),
    ("die", "death"),
    ("born", "birth"),
    ("kill", "slay"),
    ("help", "assist"),
    ("show", "demonstrate"),
    ("get", "obtain"),
    ("get", "receive"),
    ("make", "create"),
    ("make", "produce"),
    ("use", "employ"),
    ("use", "utilize"),
    ("need", "require"),
    ("allow", "permit"),
    ("enough", "sufficient"),
    ("need", "require"),
    ("famous", "renowned"),
    ("famous", "noted"),
    ("similar", "alike"),
    ("distinct", "separate"),
    ("distinct", "different"),
    ("main", "principal"),
    ("main", "primary"),
    ("chief", "main"),
    ("quick", "fast"),
    ("rapid", "fast"),
    ("near", "close"),
    ("city", "town"),
    ("country", "nation"),
    ("country", "state"),
    ("leader", "head"),
    ("ruler", "king"),
    ("king", "monarch"),
    ("war", "conflict"),
    ("fight", "battle"),
    ("win", "victory"),
    ("lose", "defeat"),
    ("beat", "defeat"),
    ("award", "prize"),
    ("locate", "situate"),
    ("locate", "lie"),
    ("locate", "base"),
    ("found", "establish"),
    ("form", "establish"),
    ("name", "call"),
    ("appoint", "name"),
    ("rule", "govern"),
    ("reign", "rule"),
    ("area", "region"),
    ("people", "population"),
    ("people", "person"),
    ("job", "work"),
    ("role", "function"),
    ("aim", "goal"),
    ("aim", "purpose"),
    ("cause", "lead"),
    ("increase", "rise"),
    ("increase", "grow"),
    ("decrease", "fall"),
    ("decrease", "decline"),
    ("reduce", "lower"),
    ("large", "great"),
    ("old", "ancient"),
    ("modern", "contemporary"),
    ("today", "now"),
    ("currently", "now"),
    ("initially", "first"),
    ("originally", "first"),
]


# Opposites: a claim word the span does not have, whose opposite it has, is a contradiction
# ("a decreasing plurality" against "an increasing plurality"), never a paraphrase.
_ANTONYM_PAIRS = [
    ("increase", "decrease"),
    ("increasing", "decreasing"),
    ("rise", "fall"),
    ("more", "less"),
    ("more", "fewer"),
    ("most", "least"),
    ("higher", "lower"),
    ("high", "low"),
    ("larger", "smaller"),
    ("large", "small"),
    ("big", "small"),
    ("major", "minor"),
    ("strong", "weak"),
    ("best", "worst"),
    ("better", "worse"),
    ("success", "failure"),
    ("successful", "unsuccessful"),
    ("win", "lose"),
    ("won", "lost"),
    ("open", "closed"),
    ("public", "private"),
    ("legal", "illegal"),
    ("possible", "impossible"),
    ("include", "exclude"),
    ("accept", "reject"),
    ("allow", "forbid"),
    ("allow", "prohibit"),
    ("same", "different"),
    ("maximum", "minimum"),
    ("north", "south"),
    ("east", "west"),
    ("northern", "southern"),
    ("eastern", "western"),
    ("old", "new"),
    ("old", "young"),
    ("rich", "poor"),
    ("positive", "negative"),
    ("true", "false"),
    ("above", "below"),
    ("inside", "outside"),
    ("early", "late"),
    ("earlier", "later"),
    ("before", "after"),
    ("first", "last"),
    ("begin", "end"),
    ("start", "end"),
    ("start", "finish"),
    ("important", "unimportant"),
    ("common", "rare"),
    ("frequent", "rare"),
    ("direct", "indirect"),
    ("internal", "external"),
    ("domestic", "foreign"),
    ("import", "export"),
    ("buy", "sell"),
    ("gain", "loss"),
    ("profit", "loss"),
    ("agree", "disagree"),
    ("support", "oppose"),
    ("victory", "defeat"),
    ("alive", "dead"),
    ("male", "female"),
    ("upper", "lower"),
    ("full", "empty"),
    ("hot", "cold"),
    ("warm", "cool"),
    ("fast", "slow"),
    ("easy", "difficult"),
    ("easy", "hard"),
    ("cheap", "expensive"),
    ("light", "heavy"),
    ("long", "short"),
    ("wide", "narrow"),
    ("increased", "reduced"),
    ("increase", "reduce"),
    ("expand", "shrink"),
    ("join", "leave"),
    ("enter", "exit"),
    ("arrive", "depart"),
    ("accepted", "rejected"),
    ("approve", "reject"),
    ("legitimate", "illegitimate"),
    ("formal", "informal"),
    ("official", "unofficial"),
    ("stable", "unstable"),
    ("able", "unable"),
]


ANTONYMS: dict[str, set[str]] = {}
for _a, _b in _ANTONYM_PAIRS:
    ANTONYMS.setdefault(stem(_a), set()).add(stem(_b))
    ANTONYMS.setdefault(stem(_b), set()).add(stem(_a))

SYNONYMS: dict[str, set[str]] = {}
for _a, _b in _SYNONYM_PAIRS:
    SYNONYMS.setdefault(stem(_a), set()).add(stem(_b))
    SYNONYMS.setdefault(stem(_b), set()).add(stem(_a))
