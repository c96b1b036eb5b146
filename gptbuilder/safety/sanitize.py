"""Document text is data: strip what a reader cannot see, and keep sources from forging prompts.

Two jobs, both pure string work:

- At ingestion, ``strip_invisible`` removes characters that are invisible on screen but read by
  a language model (Unicode tag characters, zero-width characters, bidi controls, runs of
  variation selectors) and says where they were and what they spelled. ``scan_form`` gives the
  NFKC-normalised text the flagger looks at, so "ｉｇｎｏｒｅ" or "𝐢𝐠𝐧𝐨𝐫𝐞" reads as "ignore".
- At question time, ``neutralise`` removes chat-template tokens and anything shaped like our
  source delimiters from a passage, and ``datamark`` optionally joins its words with a marker
  character (Hines et al. 2024, "spotlighting"), so the model can tell quoted data from orders.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# -- invisible characters ------------------------------------------------------------------------

_TAGS = (0xE0000, 0xE007F)  # Unicode "tag" block: invisible copies of ASCII
_ZERO_WIDTH = {
    0x200B: "zero-width space",
    0x200C: "zero-width non-joiner",
    0x200D: "zero-width joiner",
    0x2060: "word joiner",
    0xFEFF: "zero-width no-break space",
    0x180E: "Mongolian vowel separator",
    0x2061: "invisible function application",
    0x2062: "invisible times",
    0x2063: "invisible separator",
    0x2064: "invisible plus",
    0x115F: "Hangul filler",
    0x1160: "Hangul filler",
    0x3164: "Hangul filler",
    0xFFA0: "Hangul filler",
}
_BIDI_OVERRIDES = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))
_BIDI_MARKS = {0x200E, 0x200F, 0x061C}  # LRM, RLM, ALM: common and harmless in RTL text
_SOFT_HYPHEN = 0x00AD  # PDF hyphenation leftovers: removed, never worth a flag
_CANDIDATES = re.compile(
    "[\U000e0000-\U000e007f\u200b-\u200f\u2060-\u2064\ufeff\u180e\u115f\u1160\u3164\uffa0"
    "\u202a-\u202e\u2066-\u2069\u061c\ufe00-\ufe0f\U000e0100-\U000e01ef\u00ad]"
)


def _is_variation_selector(cp: int) -> bool:
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def _vs_byte(cp: int) -> int:
    """The byte a variation selector stands for in "emoji smuggling" (VS1..VS256 = 0..255)."""
    return cp - 0xFE00 if cp <= 0xFE0F else cp - 0xE0100 + 16


_RTL = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_JOINING_SCRIPT = re.compile(r"[\u0600-\u06ff\u0700-\u08ff\u0900-\u0dff\ufb50-\ufdff\ufe70-\ufefc]")


def _is_emoji_like(ch: str) -> bool:
    return unicodedata.category(ch) == "So" or 0x1F000 <= ord(ch) <= 0x1FAFF


@dataclass(frozen=True)
class InvisibleRun:
    """Characters removed from one place of a text."""

    at: int  # offset in the cleaned text where they were
    kinds: tuple[str, ...]  # plain names ("Unicode tag characters", "bidi override", ...)
    hidden_message: str  # what tag characters or variation selectors spelled, if anything
    count: int

    @property
    def stray(self) -> bool:
        """One or two zero-width spaces or bidi marks: copy-paste debris in real text (seen in
        SciFact and SQuAD), removed without a flag. Longer runs can encode data."""
        harmless = set(_ZERO_WIDTH.values()) | {"bidi mark"}
        return self.count <= 2 and set(self.kinds) <= harmless


def notable(runs: list[InvisibleRun]) -> list[InvisibleRun]:
    """The runs worth telling the owner about (all of them if debris is unusually frequent)."""
    stray = [r for r in runs if r.stray]
    return runs if len(stray) >= 6 else [r for r in runs if not r.stray]


def _decode_vs(cps: list[int]) -> str:
    data = bytes(_vs_byte(cp) for cp in cps)
    text = data.decode("utf-8", errors="ignore")
    printable = sum(ch.isprintable() for ch in text)
    return text if text and printable / len(text) > 0.8 else ""


def strip_invisible(text: str) -> tuple[str, list[InvisibleRun]]:
    """Text without invisible characters, and the runs that were removed.

    Kept, because they are ordinary in real text: ZWJ/ZWNJ inside Arabic or Indic words and in
    emoji sequences, bidi marks (LRM/RLM) in text that has right-to-left script, and a single
    variation selector after a non-ASCII character (emoji presentation, CJK variants).
    """
    if not _CANDIDATES.search(text):
        return text, []  # the common case, without a character-by-character walk
    out: list[str] = []
    runs: list[InvisibleRun] = []
    has_rtl = bool(_RTL.search(text))
    i, n = 0, len(text)
    while i < n:
        # A run of consecutive removable characters is reported once.
        kinds: list[str] = []
        tags: list[int] = []
        selectors: list[int] = []
        count = 0
        j = i
        while j < n:
            cp = ord(text[j])
            prev = text[j - 1] if j > 0 else ""
            nxt = text[j + 1] if j + 1 < n else ""
            if _TAGS[0] <= cp <= _TAGS[1]:
                kinds.append("Unicode tag characters")
                tags.append(cp)
            elif cp in _ZERO_WIDTH:
                legit_join = cp in (0x200C, 0x200D) and (
                    (_JOINING_SCRIPT.match(prev) and _JOINING_SCRIPT.match(nxt))
                    or (_is_emoji_like(prev) or _is_emoji_like(nxt))
                )
                if legit_join or (cp == 0xFEFF and j == 0):
                    break
                kinds.append(_ZERO_WIDTH[cp])
            elif cp in _BIDI_OVERRIDES:
                kinds.append("bidi control (reorders text on screen)")
            elif cp in _BIDI_MARKS:
                if has_rtl:
                    break
                kinds.append("bidi mark")
            elif _is_variation_selector(cp):
                single = not (j + 1 < n and _is_variation_selector(ord(text[j + 1])))
                follows_selector = j > 0 and _is_variation_selector(ord(prev))
                if single and not follows_selector and (cp in (0xFE0E, 0xFE0F) or ord(prev) > 127):
                    break
                kinds.append("variation selectors")
                selectors.append(cp)
            elif cp == _SOFT_HYPHEN:
                count -= 1  # removed silently
            else:
                break
            count += 1
            j += 1
        if j == i:
            out.append(text[i])
            i += 1
            continue
        if kinds:
            message = "".join(chr(c - 0xE0000) for c in tags if 0xE0020 <= c <= 0xE007E)
            if not message and len(selectors) >= 2:
                message = _decode_vs(selectors)
            pos = sum(len(s) for s in out)
            runs.append(
                InvisibleRun(pos, tuple(dict.fromkeys(kinds)), message.strip(), max(count, 1))
            )
        i = j
    return "".join(out), runs


# Letters from other scripts that look like Latin ones, for the flagger's eyes only: Cyrillic,
# Armenian, Greek and a few Latin variants (NFKC already turns fullwidth and mathematical
# letters into ASCII).
_LOOKALIKES = {
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "ɡ": "g", "һ": "h", "ӏ": "l", "ո": "n", "ѵ": "v", "ԝ": "w", "ԛ": "q",
    "ү": "y", "ѡ": "w", "ɑ": "a", "ı": "i", "ɩ": "i", "ꮃ": "w",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S", "Ү": "Y", "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I",
    "α": "a", "ο": "o", "ρ": "p", "ι": "i", "κ": "k", "ν": "v", "υ": "u", "χ": "x", "ε": "e",
    "τ": "t", "ϲ": "c", "ϳ": "j",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C",
}  # fmt: skip
_CONFUSABLES = str.maketrans(_LOOKALIKES)
_LOOKALIKE_WORD = re.compile(rf"\w*[{''.join(_LOOKALIKES)}]\w*")
_LATIN = re.compile(r"[A-Za-z]")


def fold_lookalikes(text: str) -> str:
    """Look-alike letters read as the Latin ones they imitate, in words that mix them with Latin
    letters ("Ignоre" with a Cyrillic о) or are made of look-alikes only ("рор"). Words of
    ordinary Russian or Greek text ("привет", "λόγος") have other letters too and stay as
    they are."""
    if not _LOOKALIKE_WORD.search(text):
        return text  # the common case

    def fold(m: re.Match[str]) -> str:
        word = m.group(0)
        folded = word.translate(_CONFUSABLES)
        return (
            folded
            if all(c.isascii() or not c.isalpha() for c in folded) or _LATIN.search(word)
            else word
        )

    return _LOOKALIKE_WORD.sub(fold, text)


def scan_form(text: str) -> str:
    """The text as the flagger reads it: invisible characters gone, NFKC (fullwidth and
    mathematical letters become ASCII), look-alike letters read as Latin (``fold_lookalikes``)."""
    clean, _ = strip_invisible(text)
    return fold_lookalikes(unicodedata.normalize("NFKC", clean))


# -- sources in the prompt -----------------------------------------------------------------------

# Tokens that open or close a message in common chat templates (ChatML as used by SmolLM2,
# Llama 2/3, Mistral, Gemma, Phi). Inside a source they could start a fake system message.
CHAT_TOKENS = re.compile(
    r"<\|[A-Za-z0-9_]{1,30}\|>"  # <|im_start|> <|eot_id|> <|user|> <|endoftext|> ...
    r"|<\|\s*(?:im_start|im_end|im_sep|endoftext|eot_id)\s*\|?>?"  # damaged variants
    r"|\[/?INST\]|<</?SYS>>|</?s>|<(?:start|end)_of_turn>|<\|?(?:bos|eos)\|?>",
    re.IGNORECASE,
)
# Anything shaped like our source fences, whatever the random part, so a document cannot close
# the sources block early or open a fake one.
FENCE_LIKE = re.compile(r"<<\s*/?\s*(?:SRC|END|SOURCES?)\b[^<>]{0,40}>>", re.IGNORECASE)
DATAMARK = "\u02c6"  # ˆ modifier circumflex: rare in documents, one token in most vocabularies


def neutralise(text: str) -> str:
    """A passage made safe to quote: no chat-template tokens, no fake delimiters, one line."""
    text = FENCE_LIKE.sub(" ", text)
    text = CHAT_TOKENS.sub(" ", text)
    return " ".join(text.replace(DATAMARK, " ").split())


def datamark(text: str) -> str:
    """Words joined by the marker: ``a b c`` -> ``aˆbˆc``."""
    return DATAMARK.join(text.split())


def strip_prompt_tokens(text: str) -> str:
    """Chat-template tokens removed from any text that goes back into a prompt (history)."""
    return CHAT_TOKENS.sub(" ", FENCE_LIKE.sub(" ", text))
