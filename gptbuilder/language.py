"""Text basics, in one place: sentences, words, stopwords, folding and stems of English text.

Every part of the app that splits text into sentences or words uses this module, so that a
passage, its best sentence, a model's claim and the span that supports it are cut the same way.

- Sentences end at ``.``, ``!`` or ``?`` (with closing quotes or brackets) before a space, and
  at line breaks: in model output every line break ends one (lists); in document text only a
  blank line does (a single break is a PDF line wrap). A stop after a common abbreviation
  ("Ltd.", "Dr.", "9 a.m.") or an initial ("J.") does not end a sentence, except for the
  chunker, which keeps cutting there so that the passages stored by earlier versions stay
  exactly as they are (changing it means a new ``CHUNKER_VERSION`` and re-chunking every
  document).
- ``STOPWORDS`` are the app's small-word list (claims, citations, evidence); the keyword index
  uses bm25s's English list, which BM25 scoring was measured with (``search_tokens``).
- Stems are PyStemmer's English Snowball stems. A Stemmer caches and is not safe to share
  between threads, so each thread has its own.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator, Sequence

WORD = re.compile(r"\w+")
STOPWORDS = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was "
    "were which with not no yes but if so than then there these those they their he she his "
    "her we you i our your what who when where why how do does did can could would should "
    "will may might been being also into about after before more most other some such only".split()
)

# A sentence's end: its stop (and closing quotes or brackets) and the space after it.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+|\n+")
# In document text a single line break is a PDF line wrap: only a blank line ends a sentence.
_PARAGRAPH_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+|\n\s*\n\s*")
_ABBREVIATION = re.compile(
    r"(?:\b(?:Ltd|Inc|Co|Corp|Dr|Mr|Mrs|Ms|Prof|St|No|Vol|Fig|vs|etc|approx|e\.g|i\.e|Rev|Gen|"
    r"Col|Lt|Sgt|Capt|Sen|Rep|Gov|Jr|Sr|Mt|Ft|Ave|Dept|Univ|Jan|Feb|Mar|Apr|Aug|Sept|Sep|Oct|"
    r"Nov|Dec|U\.S|ca|cf|al|Nos|pp|Art|Sec|Ch|a\.m|p\.m)|"
    r"\b[A-Z])\.$"
)


def sentence_ends(
    text: str,
    start: int = 0,
    end: int | None = None,
    document: bool = True,
    abbreviations: bool = True,
) -> Iterator[tuple[int, int]]:
    """(start, end) of each gap between two sentences of ``text[start:end]``: the whitespace
    (and closing marks) after a sentence's stop, or the line breaks that end it."""
    pattern = _PARAGRAPH_BOUNDARY if document else _BOUNDARY
    sentence_start = start
    for m in pattern.finditer(text, start, len(text) if end is None else end):
        gap = m.group(0)
        if abbreviations and gap.strip() == "" and "\n\n" not in gap.replace(" ", ""):
            if _ABBREVIATION.search(text[sentence_start : m.start()]):
                continue
        yield m.start(), m.end()
        sentence_start = m.end()


def split_sentences(text: str, document: bool = False) -> list[str]:
    """Sentences with their trailing whitespace; joined they give back ``text`` (less any
    blank lead). See the module's note for where a sentence ends."""
    out: list[str] = []
    start = 0
    for _, gap_end in sentence_ends(text, document=document):
        out.append(text[start:gap_end])
        start = gap_end
    if start < len(text):
        out.append(text[start:])
    return [s for s in out if s.strip()] if text.strip() else []


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of document ``text``, surrounding whitespace excluded."""
    spans = []
    pos = 0
    for s in split_sentences(text, document=True):
        start = text.index(s, pos)
        pos = start + len(s)
        lead = len(s) - len(s.lstrip())
        body = s.strip()
        if body:
            spans.append((start + lead, start + lead + len(body)))
    return spans


def content_words(text: str) -> set[str]:
    """Lower-cased words of ``text`` that are not stopwords."""
    return {w for w in (m.lower() for m in WORD.findall(text)) if w not in STOPWORDS}


def fold(text: str) -> str:
    """Lower case, accents off, curly quotes and dashes plain."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return (
        text.lower()
        .replace("’", "'")
        .replace("‘", "'")
        .replace("“", '"')
        .replace("”", '"')
        .replace("–", "-")
        .replace("—", "-")
    )


_stemmers = threading.local()


def _stemmer():
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        import Stemmer  # PyStemmer: Snowball stemmers in C

        stemmer = _stemmers.english = Stemmer.Stemmer("english")
    return stemmer


def stem_word(word: str) -> str:
    """The English stem of a lower-case word, as it is."""
    return _stemmer().stemWord(word)


def stem(word: str) -> str:
    """The English stem of a word as written: folded, edge apostrophes, dashes, stops off."""
    return stem_word(fold(word).strip("'-."))


def search_tokens(texts: Sequence[str], as_ids: bool = True):
    """The keyword index's words: lower case, 2+ characters, bm25s's English stopwords
    removed, stemmed. A bm25s ``Tokenized`` (token ids and vocabulary), or lists of words when
    ``as_ids`` is False."""
    import bm25s

    return bm25s.tokenize(
        list(texts),
        stopwords="en",
        stemmer=_stemmer(),
        return_ids=as_ids,
        show_progress=False,
    )
