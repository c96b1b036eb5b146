"""What a request asks for (a fact, a summary, a list of every instance, a comparison), from
its words or set explicitly, and follow-ups rewritten with the conversation.

Rules, not a model: the words that ask for a summary ("summarise", "overview", "key points",
"what is the report about"), a list ("list all …", "every …", "which documents mention …",
"how many … are mentioned") or a comparison ("compare", "differences between", "versus") are
few and stable, and a rule can be read and fixed. Measured on labelled requests in
``bench/documents.py`` (a held-out half is never tuned on).

A follow-up ("and the second one?", "who wrote it?", "what about Rollo?") only means something
with the conversation: it is rewritten into a request that stands alone before anything is
retrieved, and the rewritten request is returned so it can be shown. It is rewritten from what
the last answer was about: the last request as it was answered (itself rewritten, if it was a
follow-up), and after a summary, list or comparison the document the answer read ("who wrote
it?" after a summary: who wrote that document; "the second point": that point of it). The
history is typed ``ChatMessage``s as they were understood (earlier follow-ups as rewritten,
each answer's cited ``documents``: ``usecases.saved.as_understood``); this module never reads
how answers are saved.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gptbuilder.language import WORD, fold
from gptbuilder.tasks.model import COMPARE, FACT, KINDS, LIST, SUMMARY, Route
from gptbuilder.types import ChatMessage, Document

_SUMMARY = re.compile(
    r"\b(?:summari[sz]e[sd]?|summari[sz]ing|summary|summaries|overview|gist|tl;?\s?dr|recap"
    r"|synopsis|in a nutshell|(?:key|main|major|central|important)\s+(?:points|ideas|takeaways"
    r"|findings|themes|messages|arguments|facts)|takeaways|highlights|brief me|outline of"
    r"|what(?:'s| is| are)\s+(?:this|that|the|these|those|my|our|each|all(?: the| of the)?)\s+"
    r"(?:\w+\s+){0,2}?(?:documents?|papers?|essays?|articles?|files?|reports?|books?|chapters?"
    r"|texts?|sources?|pdfs?|knowledge|handbook|guide)\s+(?:all\s+)?about"
    r"|what do (?:the|my|these|all the) (?:documents|files|sources|papers) (?:say|cover))\b",
    re.IGNORECASE,
)
_COMPARE = re.compile(
    r"\b(?:compare[sd]?|comparing|comparison|contrast(?:s|ed|ing)?|side[ -]by[ -]side|versus"
    r"|vs\.?|differences?\s+between|how\s+(?:do|does|did|is|are)\b.{0,80}\bdiffer"
    r"|(?:different|differs?)\s+from|similarit(?:y|ies)\s+(?:between|of)|in\s+common)\b",
    re.IGNORECASE,
)
# "list/name/find/show/give me ... all|every|each X", "what are all the X", "all the X in/of …"
_LIST_VERB = re.compile(
    r"^\s*(?:please\s+|can you\s+|could you\s+)?(?:list|enumerate|itemi[sz]e|catalog(?:ue)?"
    r"|tabulate)\b",
    re.IGNORECASE,
)
_LIST_ALL = re.compile(
    r"\b(?:list|enumerate|name|find|show|give|get|extract|collect|gather|pull|tell|what\s+are"
    r"|who\s+are|what\s+were|who\s+were|which\s+are|where\s+are)\b[^.?!]{0,40}?"
    r"\b(?:all|every|each)\b(?!\s+(?:right|the\s+time|day|year|week|month|other))",
    re.IGNORECASE,
)
_EVERY_START = re.compile(r"^\s*(?:all|every|each)\s+(?:of\s+)?(?:the\s+)?\w+", re.I)
_WHICH_DOCS = re.compile(
    r"\b(?:which|what|any)\s+(?:of\s+the\s+|of\s+my\s+)?(?:documents?|files?|sources?|papers?"
    r"|pdfs?|articles?|reports?)\s+(?:(?:that\s+)?(?:do|does)\s+)?(?:mentions?|contains?|talks?"
    r"|discuss(?:es)?|refers?|cites?|says?|covers?|includes?|uses?|has|have|is|are)\b",
    re.IGNORECASE,
)
_HOW_MANY = re.compile(
    r"\bhow\s+many\b.{1,60}\b(?:are|were|is)\s+(?:mentioned|named|listed|cited|there|given"
    r"|described)\b",
    re.IGNORECASE,
)
# The thing a list asks for: the words after "all/every/each (of) (the)".
_TARGET = re.compile(
    r"\b(?:all|every|each)\s+(?:of\s+)?(?:the\s+|my\s+|their\s+)?(?P<t>.+?)\s*"
    r"(?:\?|\.|$|\b(?:in|from|of|that|which|who|mentioned|named|listed|across|throughout"
    r"|within|found|appearing|given|cited)\b)",
    re.IGNORECASE,
)
_MENTION_TARGET = re.compile(
    r"\b(?:mentions?|contains?|talks?\s+about|discuss(?:es)?|refers?\s+to|cites?|says?"
    r"\s+(?:anything\s+)?about|covers?|includes?|uses?)\s+(?P<t>.+?)\s*[?.!]*$",
    re.IGNORECASE,
)
_HOW_MANY_TARGET = re.compile(r"\bhow\s+many\s+(?P<t>.+?)\s+(?:are|were|is)\b", re.IGNORECASE)

# -- follow-ups ---------------------------------------------------------------------------------

_CONTINUE = re.compile(
    r"^\s*(?:and|but|also|so|what\s+about|how\s+about|and\s+what\s+about|same\s+(?:for|with)"
    r"|what\s+of|now)\b[\s,]*",
    re.IGNORECASE,
)
_PRONOUN = re.compile(
    r"\b(?:it|its|he|him|his|she|her|hers|they|them|their|theirs|there|itself|himself|herself"
    r"|themselves)\b|\b(?:this|that|these|those)\b(?=\s*(?:[?.!,]|$|one\b|ones\b|is\b|was\b"
    r"|are\b|were\b|mean|say))|\bthe\s+(?:former|latter|above|same)\b",
    re.IGNORECASE,
)
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "last": -1, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4,
    "5th": 5,
}  # fmt: skip
_ORDINAL_REF = re.compile(
    r"\b(?:the\s+)?(?P<o>" + "|".join(ORDINALS) + r")(?:\s+(?P<n>one|item|entry|point|person"
    r"|name|document|file|result))?\b",
    re.IGNORECASE,
)
_BARE = re.compile(
    r"^\s*(?:and\s+)?(?:why|when|where|who|how|how\s+so|how\s+come|how\s+many|how\s+much"
    r"|what\s+else|anything\s+else|more|tell\s+me\s+more|go\s+on|explain|details?|really"
    r"|for\s+example|such\s+as|which\s+ones?)\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_LIST_LINE = re.compile(r"^\s*(?:[-*•]|\d{1,3}[.)])\s+(?P<item>.+)$", re.MULTILINE)
_MARKERS = re.compile(r"\s*\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\]")
_WH_START = re.compile(
    r"^\s*(?:who|what|when|where|which|why|how|is|are|was|were|did|does|do)\b", re.IGNORECASE
)
# Words of a document's name that do not name it ("the report", "final", "v2").
_GENERIC = frozenset(
    "the a an of and in on for to document documents file files paper report essay article "
    "pdf docx txt md html final draft copy new old v1 v2 v3 version".split()
)
_DOC_NOUNS = (
    r"(?:documents?|papers?|essays?|articles?|files?|reports?|books?|chapters?|texts?|pdfs?"
    r"|sources?|handbook|guide)"
)


def detect_kind(text: str) -> str:
    """The kind of request its words ask for (``model.KINDS``)."""
    if _COMPARE.search(text):
        return COMPARE
    if _SUMMARY.search(text):
        return SUMMARY
    if (
        _LIST_VERB.search(text)
        or _EVERY_START.search(text)
        or _LIST_ALL.search(text)
        or _WHICH_DOCS.search(text)
        or _HOW_MANY.search(text)
    ):
        return LIST
    return FACT


def list_target(text: str) -> str:
    """The thing a list request asks for ("authors", "years", "Rollo" for "which documents
    mention Rollo"), "" if none is said."""
    for pattern in (
        (_MENTION_TARGET, _TARGET, _HOW_MANY_TARGET)
        if _WHICH_DOCS.search(text)
        else (_TARGET, _HOW_MANY_TARGET, _MENTION_TARGET)
    ):
        m = pattern.search(text)
        if m and m.group("t").strip():
            return m.group("t").strip(" ?.!,\"'")
    m = re.match(
        r"^\s*(?:please\s+)?(?:list|enumerate|itemi[sz]e|catalog(?:ue)?|tabulate)\s+"
        r"(?:the\s+|all\s+)?(?P<t>.+?)\s*(?:\?|\.|$|\b(?:in|from|of|mentioned|named|listed)\b)",
        text,
        re.IGNORECASE,
    )
    return m.group("t").strip(" ?.!,") if m else ""


def document_names(document: Document) -> tuple[str, ...]:
    """Ways a request may name a document: its file name without the extension, as words."""
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", document.filename)
    words = [w for w in WORD.findall(fold(stem).replace("_", " ")) if w]
    full = " ".join(words)
    meaningful = " ".join(w for w in words if w not in _GENERIC)
    return tuple(n for n in dict.fromkeys((full, meaningful)) if n)


def named_documents(text: str, documents: Sequence[Document]) -> tuple[int, ...]:
    """Ids of the documents the request names, in the order it names them."""
    folded = " " + " ".join(WORD.findall(fold(text).replace("_", " "))) + " "
    found: list[tuple[int, int]] = []
    for d in documents:
        positions = [folded.find(f" {n} ") for n in document_names(d)]
        positions = [p for p in positions if p >= 0]
        if positions:
            found.append((min(positions), d.id))
    return tuple(i for _, i in sorted(found))


def route(
    request: str,
    history: Sequence[ChatMessage] = (),
    documents: Sequence[Document] = (),
    kind: str | None = None,
) -> Route:
    """What ``request`` asks for, with the conversation so far (``history``, oldest first) and
    the assistant's documents (to find the ones it names). ``kind`` set: the user chose it."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind of request: {kind!r}")
    question, rewritten, about_item = _rewrite(request, history, documents)
    if kind is not None:
        found = kind
    elif rewritten and (_BARE.match(request) or about_item):
        found = FACT  # "why?" or "the second point" after a summary asks about it
    else:
        found = detect_kind(question)
    target = list_target(question) if found == LIST else ""
    return Route(
        kind=found,
        question=question,
        original=request,
        rewritten=rewritten,
        explicit=kind is not None,
        documents=named_documents(question, documents),
        target=target,
    )


# -- rewriting follow-ups -----------------------------------------------------------------------


def is_follow_up(request: str, history: Sequence[ChatMessage]) -> bool:
    """The request leans on the conversation: it continues it ("and …", "what about …"), is
    bare ("why?"), points back ("it", "the second one") without naming what it means."""
    if not _last(history, "user"):
        return False
    text = request.strip()
    if _BARE.match(text) or _CONTINUE.match(text):
        return True
    if _ORDINAL_REF.search(text) and re.search(
        r"\b(?:one|item|entry|point|result)\b|^\s*(?:and\s+)?(?:the\s+)?\w+\s*\??\s*$", text
    ):
        return True
    if not _PRONOUN.search(text):
        return False
    # "Summarise this document", "What does the Normans article say about its army?": the
    # request names what it is about. A pronoun in a request with a name of its own is read as
    # pointing inside it.
    without = _PRONOUN.sub(" ", text)
    has_name = bool(re.search(r"(?<!^)(?<![.?!]\s)\b[A-Z][a-z]+", without.strip()[1:]))
    has_doc = bool(re.search(r"\b(?:this|that|the)\s+" + _DOC_NOUNS + r"\b", text, re.I))
    return not (has_name or has_doc)


def rewrite(
    request: str, history: Sequence[ChatMessage], documents: Sequence[Document] = ()
) -> tuple[str, bool]:
    """The request standing alone, and whether it had to be rewritten."""
    question, rewritten, _ = _rewrite(request, history, documents)
    return question, rewritten


def _rewrite(
    request: str, history: Sequence[ChatMessage], documents: Sequence[Document] = ()
) -> tuple[str, bool, bool]:
    """The request standing alone, whether it had to be rewritten, and whether it asks about
    an item or point of the last answer ("the second one")."""
    if not is_follow_up(request, history):
        return request.strip(), False, False
    previous, answer, cited = last_answered(history)
    text = request.strip()
    # After a summary, list or comparison, what it was about: the document it read.
    read = _the_documents(cited, documents) if detect_kind(previous) != FACT else ""
    focus = antecedent(previous, answer, documents, read)
    # "the second one" after a list: that item; "the second point" after a summary: that point.
    m = _ORDINAL_REF.search(text)
    items = [_MARKERS.sub("", i.group("item")).strip() for i in _LIST_LINE.finditer(answer)]
    if m and items and (m.group("n") or "").lower() not in ("document", "file"):
        n = ORDINALS[m.group("o").lower()]
        if -len(items) <= (n - 1 if n > 0 else n) < len(items):
            chosen = items[n - 1 if n > 0 else n]
            if detect_kind(previous) in (SUMMARY, COMPARE):  # a point: a sentence of it
                point = " ".join(chosen.split()).rstrip(" .;")
                named = named_documents(previous, documents)
                of = _the_documents(named, documents) if len(named) == 1 else read
                where = f" of {of}" if of else ""
                return f"Tell me more about this point{where}: “{point}”.", True, True
            item = _item_name(chosen)
            out = text[: m.start()] + item + text[m.end() :]
            out = _CONTINUE.sub("", out).strip()
            if _WH_START.match(out) or len(out.split()) > 3:
                return _sentence(out), True, True
            return f"Tell me about {item}.", True, True
    # "and the second?" after "Who was the first duke?": the same question, other ordinal.
    if m and re.search(r"\b(?:" + "|".join(ORDINALS) + r")\b", previous, re.IGNORECASE):
        new = m.group("o")
        return (
            _sentence(
                re.sub(r"\b(?:" + "|".join(ORDINALS) + r")\b", new, previous, count=1, flags=re.I)
            ),
            True,
            False,
        )
    cont = _CONTINUE.match(text)
    rest = text[cont.end() :].strip() if cont else text
    if cont and rest and not _PRONOUN.search(rest) and not _WH_START.match(rest):
        # "What about Rollo?" / "And the Franks?": the last request, about this instead.
        return _sentence(_replace_focus(previous, rest.rstrip("?.! "), documents)), True, False
    if _BARE.match(text) or not rest:
        return f"{rest.rstrip('?.! ') or text.rstrip('?.! ')} — {previous.strip()}", True, False
    if focus and _PRONOUN.search(rest):
        return _sentence(_substitute(rest, focus)), True, False
    return f"{rest} ({previous.strip()})", True, False


def last_answered(history: Sequence[ChatMessage]) -> tuple[str, str, tuple[int, ...]]:
    """What the last answer was about: the last request (as it was answered, when the history
    is given as it was understood: a follow-up's rewrite in place of what was typed), the last
    answer's text, and its ``documents`` (the ids of the documents it cites, first cited
    first)."""
    previous = _last(history, "user")
    answer = next((m for m in reversed(history) if m.role == "assistant"), None)
    if answer is None:
        return previous, "", ()
    return previous, answer.content, tuple(dict.fromkeys(answer.documents))


def _the_documents(ids: Sequence[int], documents: Sequence[Document]) -> str:
    """ "the annual report 2020 document" for the one document read; "" for none or several."""
    read = [d for i in dict.fromkeys(ids) for d in documents if d.id == i]
    if len(read) != 1:
        return ""
    names = document_names(read[0])
    return f"the {names[0]} document" if names else read[0].filename


def antecedent(
    previous: str, answer: str, documents: Sequence[Document] = (), read: str = ""
) -> str:
    """What "it", "he" or "they" most likely point at: a document the last request named,
    else the document the last answer read (``read``, after a summary, list or comparison),
    else its first name (capitalised words), else its last noun phrase."""
    for doc_id in named_documents(previous, documents):
        doc = next(d for d in documents if d.id == doc_id)
        doc_names = document_names(doc)
        return f"the {doc_names[-1]} document" if doc_names else doc.filename
    if read:
        return read
    names = _names(previous)
    phrase = _last_noun_phrase(previous)
    if phrase and len(phrase.split()) <= 8 and (not names or names[0] in phrase):
        return phrase
    if names:
        return names[0]
    if phrase:
        return phrase
    said = _names(answer)
    return said[0] if said else ""


def _names(text: str) -> list[str]:
    """Runs of capitalised words that are not the sentence's first word alone."""
    out = []
    for m in re.finditer(
        r"\b[A-Z][\w'’-]*(?:\s+(?:of|the|de|von|van|and|&)?\s*[A-Z][\w'’-]*)*", text
    ):
        words = m.group(0)
        if m.start() == 0 or re.match(r"[.?!]\s*$", text[max(0, m.start() - 2) : m.start()]):
            first, _, tail = words.partition(" ")
            if first.lower() in _QUESTION_OPENERS:
                if not tail:
                    continue
                words = tail
        if words.lower() not in _QUESTION_OPENERS:
            out.append(words.strip())
    return out


_QUESTION_OPENERS = frozenset(
    "who what when where which why how is are was were did does do can could would should "
    "list name summarise summarize compare give tell show find please and the a an in on "
    "i my what's who's".split()
)


def _last_noun_phrase(text: str) -> str:
    """ "the essay on the Normans" → the longest tail after a verb: a plain heuristic."""
    m = re.search(r"\b(?:the|a|an|this|that|these|those)\s+[\w'’ -]+?(?=\s*[?.!]*\s*$)", text, re.I)
    return m.group(0).strip() if m else ""


def _replace_focus(previous: str, new: str, documents: Sequence[Document]) -> str:
    """The previous request about ``new`` instead of what it was about."""
    for doc_id in named_documents(previous, documents):
        doc = next(d for d in documents if d.id == doc_id)
        for name in document_names(doc):
            words = r"[\s_-]+".join(map(re.escape, name.split()))
            pattern = re.compile(r"\b" + words + r"\b", re.I)
            if pattern.search(previous):
                return pattern.sub(new, previous, count=1)
    focus = antecedent(previous, "", ())
    if focus and focus in previous:
        return previous.replace(focus, new, 1)
    return f"{previous.rstrip('?.! ')} — {new}"


def _substitute(text: str, focus: str) -> str:
    """Pronouns that point back replaced by what they point at (the first of each)."""

    def repl(m: re.Match[str]) -> str:
        word = m.group(0).lower()
        if word in ("its", "his", "her", "their", "hers", "theirs"):
            return focus + "'s"
        if word == "there":
            return "in " + focus
        return focus

    return _PRONOUN.sub(repl, text, count=1)


def _item_name(item: str) -> str:
    """The name of a list item: the words before a dash, colon or bracket."""
    return re.split(r"\s+[—–-]\s+|:\s|\s\(", item, maxsplit=1)[0].strip(' *_“”"')


def _sentence(text: str) -> str:
    text = re.sub(r"\b(the|a|an)\s+the\b", "the", " ".join(text.split()), flags=re.I)
    return text[:1].upper() + text[1:] if text else text


def _last(history: Sequence[ChatMessage], role: str) -> str:
    for m in reversed(history):
        if m.role == role and m.content.strip():
            return m.content
    return ""


__all__ = ["COMPARE", "FACT", "LIST", "SUMMARY", "Route", "route", "rewrite", "detect_kind"]
