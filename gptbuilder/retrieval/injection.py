"""Find passages that talk to the model instead of the reader (indirect prompt injection).

``scan`` reads a passage (in ``sanitize.scan_form``: NFKC, invisible characters gone) and
returns one ``Finding`` per kind of trouble, each with a reason in plain language and the words
that triggered it. It looks for:

- instruction overrides ("ignore previous instructions" and its many variants), orders about
  the answer ("add ... to your reply", "your code should ..."), requests to hide things from
  the user or to reveal the system prompt;
- chat-role and template markers (``<|im_start|>``, ``[INST]``, "### System:", "Assistant:"
  at the start of a line);
- requests to visit, render or encode URLs (remote Markdown/HTML images, "append ... to the
  url", addresses with a slot for data);
- long encoded payloads (base64, hex, percent-encoding) that decode to readable text.

Patterns, not a model: fast enough to run on every passage at upload, and every flag can say
exactly why. It is one layer; the prompt fences and the output rendering are the others.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from gptbuilder.retrieval.sanitize import InvisibleRun, notable, scan_form, strip_invisible
from gptbuilder.types import ChunkDraft, FlagDraft, HiddenText

INSTRUCTION = "instruction"
ROLE = "role"
EXFILTRATION = "exfiltration"
ENCODED = "encoded"
INVISIBLE = "invisible"
HIDDEN = "hidden"
KINDS = (INSTRUCTION, ROLE, EXFILTRATION, ENCODED, INVISIBLE, HIDDEN)


@dataclass(frozen=True)
class Finding:
    kind: str
    reason: str  # plain language, shown to the owner
    evidence: str  # the words that triggered it (from the scanned form of the text)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.VERBOSE)


_S = r"[^.!?\n]"  # any character inside one sentence

# -- instructions aimed at the model -------------------------------------------------------------

_OVERRIDE = _rx(
    rf"""\b(?:ignore|disregard|forget|override|overrule|bypass|skip|abandon|neglect|discard
        |set\s+aside|pay\s+no\s+attention\s+to|stop\s+following|do\s+not\s+(?:follow|obey|heed)
        |don'?t\s+(?:follow|obey|heed))\b
       {_S}{{0,40}}?\b(?:previous|prior|above|earlier|preceding|former|initial|original|all|any
        |every|your|these|those|system|developer|safety|the|its)\b
       {_S}{{0,30}}?\b(?:instructions?|prompts?|rules|directions|directives|guidelines|guidance
        |context|messages?|commands?|constraints|orders|programming|restrictions|policies|policy
        |task|question)\b
     |\b(?:ignore|disregard|forget)\s+(?:all\s+|everything\s+|anything\s+)?(?:of\s+)?(?:the\s+)?
        (?:above|previous|prior|preceding|foregoing|everything\s+(?:above|before|else)
        |what\s+(?:you\s+(?:were|have\s+been)\s+told|was\s+said)|you\s+(?:were|have\s+been)\s+told)
        \b(?!\s+(?:table|figure|section|chapter|equation|example|page))"""
)
_NEW_ORDERS = _rx(
    r"""\b(?:new|updated|revised|real|actual|true|secret|hidden|additional|important|urgent|override)
        \s+(?:system\s+)?(?:instructions?|task|directives?|system\s+prompt|orders|prompt)\s*[:\-–]
     |\b(?:your|the)\s+(?:new|real|actual|true|only)\s+(?:task|instructions?|goal|objective|job
        |purpose)\s+(?:is|are|now)\b
     |\b(?:from\s+now\s+on|henceforth|for\s+the\s+rest\s+of\s+(?:this|the)\s+conversation)\b
        [^.!?\n]{0,40}\b(?:answer|respond|reply|say|act|behave|speak|write|refer\s+to\s+yourself
        |you\s+(?:are|will\s+be)\s+(?:an?|the)\s+(?:[\w-]+\s+){0,2}?(?:AI|assistant|bot|model))\b
     |\byou\s+(?:are\s+now|are\s+no\s+longer|will\s+now|must\s+now|should\s+now|now\s+act)\b
     |\b(?:pretend|imagine)\s+(?:that\s+)?you\s+are\b
     |\b(?:act|behave|respond|answer|roleplay|role-play)\s+as\s+(?:if\s+you\s+were\s+)?(?:an?|the)
        \s+(?:[\w-]+\s+){0,3}?(?:AI|assistant|bot|chatbot|hacker|pirate|DAN|character|persona)\b
     |\b(?:developer|debug|god|jailbreak|DAN|unrestricted)\s+mode\b|\bjailbreak"""
)
_ADDRESS_AI = _rx(
    r"""\b(?:attention|note|message|instructions?|reminder|hey|hello|dear|hi|P\.?S\.?|important)
        \b[,:!]?\s+(?:to\s+|for\s+)?(?:the\s+|any\s+|all\s+|an\s+)?
        (?:AI|A\.I\.|AI\s+assistants?|assistants?|LLMs?|large\s+language\s+models?
        |language\s+models?|chat\s?bots?|GPT|ChatGPT|Claude|Copilot|Gemini|bots?)\b
     |\bif\s+you\s+are\s+(?:an?\s+)?(?:AI|LLM|large\s+language\s+model|language\s+model
        |assistant|chatbot|bot|GPT|automated\s+system)\b
     |\b(?:AI|LLM|assistant|chatbot|language\s+model)s?\s+(?:reading|processing|summari[sz]ing
        |analy[sz]ing|parsing)\s+(?:this|the|these)\b"""
)
_SECRECY = _rx(
    r"""\b(?:do\s+not|don'?t|never)\s+(?:tell|inform|mention\s+(?:this\s+)?to|reveal\s+(?:this\s+)?to
        |let|alert|warn|notify)\s+(?:the\s+)?users?\b
     |\bwithout\s+(?:telling|informing|alerting|notifying)\s+(?:the\s+)?users?\b
     |\b(?:hide|conceal|keep)\s+(?:this|it|these)\s+(?:secret\s+)?from\s+(?:the\s+)?users?\b
     |\b(?:reveal|repeat|print|output|show|display|leak|disclose|share|tell\s+me|give\s+me)\b
        [^.!?\n]{0,30}\b(?:system\s+prompt|initial\s+prompt|hidden\s+prompt|your\s+(?:instructions
        |prompt|rules|guidelines)|the\s+(?:instructions|text|words)\s+above|everything\s+above)\b"""
)
_EXACT_WORDS = _rx(
    r"""\b(?:respond|reply|answer)\s+(?:(?:every|all|any|each)\s+(?:questions?\s+)?)?(?:only\s+)?
        with\s+(?:the\s+|this\s+)?(?:words?|phrases?|sentences?|text|string|token|code\s?word
        |message)\b"""
)
_SAY_EXACTLY = re.compile(
    r"(?:^|[.!?:;]\s*|\b(?:please|just|and|then|now|only)\s+)"
    r"(?:say|output|print|write|repeat|reply|respond)\s+(?:exactly|only|verbatim)\b",
    re.IGNORECASE | re.MULTILINE,
)
# What the model is told to produce: "your response", "your code", ...
_OUTPUT = (
    r"(?:responses?|answers?|repl(?:y|ies)|outputs?|messages?|summary|summaries|code|solution"
    r"|implementation|codebase|algorithm|program|script|elucidation|explanation|completion)"
)
_YOUR_OUTPUT = _rx(rf"\byour\s+(?:[\w-]+\s+){{0,2}}?{_OUTPUT}\b")
_OUTPUT_MODAL = _rx(
    rf"""\byour\s+{_OUTPUT}(?:'s)?\s+(?:should|must|could|shall|will|needs?\s+to|has\s+to|ought
        \s+to|may)\b
     |\b(?:make\s+sure|ensure|be\s+sure)\s+(?:that\s+)?your\s+{_OUTPUT}\b
     |\b(?:utili[sz]e|integrate|incorporate|embed|merge|blend|meld|fuse|weave|infuse|inject
        |execute|deploy|adopt|enlist|leverage|engage|absorb|interweave|harmoni[sz]e|introduce
        |assimilate)\s+(?:the\s+)?(?:following|subsequent|below|above)\s+code\s+(?:section|block
        |snippet|excerpt|segment|fragment)\b
     |\b(?:the\s+)?(?:following|subsequent|below|above)\s+code\s+(?:section|block|snippet|excerpt
        |segment|fragment|piece|sample)\b[^.!?]{{0,80}}\byour\s+(?:[\w-]+\s+){{0,2}}?
        (?:code|solution|implementation|codebase|algorithm|program|response|answer|framework
        |logic|architecture|elucidation)\b"""
)
# Verbs that give an order about the answer; a sentence opening with one and naming "your
# response" (or the like) is an instruction to the model.
_ORDER_VERBS = frozenset(
    """add append include insert integrate incorporate embed inject merge blend meld fuse weave
    infuse interweave harmonize harmonise absorb enlist adopt deploy utilize utilise use leverage
    employ engage execute introduce modify alter change replace substitute convert translate
    render write rewrite provide give respond reply answer start begin end finish conclude
    prefix mention state say tell output print display show format remove delete omit group
    combine rearrange scramble jumble misspell anagram enhance augment enrich encourage suggest
    recommend promote invite express emphasize emphasise stress highlight hint tease offer direct
    urge ensure make keep consider let do don't dont please put tell""".split()
)
_LEAD_IN = re.compile(
    r"^(?:(?:please|also|and|then|now|finally|additionally|kindly|p\.?s\.?|note)[,:]?\s+"
    r"|(?:[\w'-]+ly)\s+|to\s+\w+,\s+|in\s+your\s+\w+,\s+|when\s+[^,]{1,60},\s+)+",
    re.IGNORECASE,
)
# A sentence ends at . ! ? followed by a space or the end: "example.com" does not end one.
_SENTENCES = re.compile(r"(?:[^.!?\n]|[.!?]+(?=[^\s.!?]))+[.!?]*")


def _order_about_output(sentence: str) -> str | None:
    """The sentence if it orders the model about its answer ("Add X to your reply.")."""
    if not _YOUR_OUTPUT.search(sentence):
        return None
    body = _LEAD_IN.sub("", sentence.strip().lstrip("-*•>\"'“( ")).lower()
    first = re.match(r"[a-z']+", body)
    if first and first.group(0) in _ORDER_VERBS:
        return sentence.strip()
    if re.search(rf"\b(?:in|into|to|within|throughout|from|of)\s+your\s+{_OUTPUT}\b", body) and (
        re.match(r"(?:in|into|within|throughout)\b", body)
    ):
        return sentence.strip()  # "In your response, suggest ..."
    return None


# -- chat roles and templates --------------------------------------------------------------------

_TEMPLATE = re.compile(
    r"<\|[A-Za-z0-9_]{2,30}\|>|\[/?INST\]|<</?SYS>>|<(?:start|end)_of_turn>"
    r"|<\|?(?:im_start|im_end|endoftext|eot_id)\b",
    re.IGNORECASE,
)
_ROLE_HEADING = re.compile(
    r"^[ \t]*#{1,4}[ \t]*(?:system|assistant|user|human|instruction|instructions|response"
    r"|input|output)[ \t]*:",
    re.IGNORECASE | re.MULTILINE,
)
_ROLE_LINE = re.compile(
    r"^[ \t]*(system|assistant|user|human|ai|bot|gpt|chatgpt)[ \t]*:[ \t]*\S",
    re.IGNORECASE | re.MULTILINE,
)
_STRONG_ROLES = {"system", "assistant", "ai", "gpt", "chatgpt"}

# -- URLs the model is asked to visit, render or fill ----------------------------------------------

_URL = r"(?:https?://|//|www\.)[^\s)\]>\"']+"
_REMOTE_IMAGE = _rx(rf"!\[[^\]\n]{{0,200}}\]\(\s*<?\s*{_URL}")
_HTML_FETCH = _rx(
    r"<\s*(?:img|iframe|script|link|object|embed|video|audio|source|frame|image)\b[^>]{0,300}?"
    r"\b(?:src|href|data|srcset|poster)\s*=\s*[\"']?\s*(?:https?:)?//"
)
_URL_ORDER = _rx(
    rf"""\b(?:append|add|attach|include|insert|put|place|encode|embed|concatenate|substitute
        |replace|fill\s+in)\b{_S}{{0,80}}?\b(?:to|in|into|onto|at\s+the\s+end\s+of|inside)\s+
        (?:the|this|that|a|an|each|every|following)\s+(?:image\s+|tracking\s+)?(?:url|link|address
        |uri|query(?:\s+string)?|parameter)s?\b
     |\b(?:render|display|show|output|print|include|embed|insert|load|fetch|return)\b{_S}{{0,40}}?
        \b(?:image|picture|pixel|markdown\s+image|img\s+tag|markdown\s+link)\b{_S}{{0,80}}?
        (?:https?://|www\.)
     |\b(?:visit|open|fetch|load|request|call|ping|navigate\s+to|go\s+to|browse\s+to|click)\b
        {_S}{{0,40}}?(?:https?://|www\.)[^\s]*[?&][\w.-]+=
     |\b(?:conversation|chat\s+history|previous\s+messages|user'?s?\s+(?:data|question|message
        |email|name|password|details|input))\b{_S}{{0,60}}?\b(?:url|link|query|parameter)\b"""
)
# An address with an empty slot for data: {data}, [SECRET], <user_message>, $VAR, %s ...
_URL_SLOT = _rx(
    r"(?:https?://|www\.)[^\s]*?(?:\{[^}\s]{1,40}\}|\[[A-Z_ ]{2,40}\]|<[A-Za-z_ ]{2,40}>"
    r"|\$[A-Z_]{2,}|%s\b|\bX{3,}\b)"
)

# -- encoded payloads --------------------------------------------------------------------------

_B64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{40,}={0,2}(?![A-Za-z0-9+/=_-])")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}[\s:]?){24,}\b")
_PERCENT = re.compile(r"(?:%[0-9A-Fa-f]{2}){12,}")
_DECODE_ORDER = _rx(
    r"\b(?:decode|decipher|decrypt|translate)\b[^.!?\n]{0,40}\b(?:base64|base\s?32|rot-?13|hex"
    r"|hexadecimal|binary|cipher|encoded)\b"
)


@dataclass(frozen=True)
class _Rule:
    kind: str
    pattern: re.Pattern[str]
    reason: str
    keywords: tuple[str, ...] = ()  # one must occur (lower case) for the pattern to be tried


_RULES = (
    _Rule(
        INSTRUCTION,
        _OVERRIDE,
        "Asks the AI to ignore its instructions.",
        (
            "ignor",
            "disregard",
            "forget",
            "overr",
            "bypass",
            "skip",
            "abandon",
            "neglect",
            "discard",
            "set aside",
            "no attention",
            "stop following",
            "follow",
            "obey",
            "heed",
        ),
    ),
    _Rule(
        INSTRUCTION,
        _NEW_ORDERS,
        "Gives the AI new instructions or a new role.",
        (
            "instruction",
            "task",
            "directive",
            "prompt",
            "orders",
            "goal",
            "objective",
            "job",
            "purpose",
            "now on",
            "henceforth",
            "rest of th",
            "you ",
            "pretend",
            "imagine",
            "as a",
            "as an",
            "as the",
            "as if",
            "mode",
            "jailbreak",
        ),
    ),
    _Rule(
        INSTRUCTION,
        _SECRECY,
        "Asks the AI to hide something from the user or to reveal its instructions.",
        ("user", "prompt", "instruction", "rules", "guideline", "above"),
    ),
    _Rule(
        INSTRUCTION,
        _EXACT_WORDS,
        "Tells the AI to answer with exact words.",
        ("respond", "reply", "answer"),
    ),
    _Rule(
        INSTRUCTION,
        _SAY_EXACTLY,
        "Tells the AI to answer with exact words.",
        ("exactly", "only", "verbatim"),
    ),
    _Rule(
        INSTRUCTION,
        _ADDRESS_AI,
        "Speaks directly to an AI that reads the document.",
        (
            "ai ",
            "ai,",
            "ai:",
            "ai!",
            "ai.",
            "ais ",
            "a.i.",
            "assistant",
            "llm",
            "language model",
            "bot",
            "gpt",
            "claude",
            "copilot",
            "gemini",
        ),
    ),
    _Rule(
        INSTRUCTION,
        _OUTPUT_MODAL,
        "Tells the AI what its answer or code must contain.",
        ("your", "code"),
    ),
    _Rule(
        EXFILTRATION,
        _REMOTE_IMAGE,
        "A remote image: shown in a browser it would contact that address, which can leak data.",
        ("![",),
    ),
    _Rule(EXFILTRATION, _HTML_FETCH, "HTML that loads something from another address.", ("<",)),
    _Rule(
        EXFILTRATION,
        _URL_ORDER,
        "Asks the AI to visit, show or fill in a web address.",
        ("url", "link", "address", "uri", "query", "parameter", "http", "www."),
    ),
    _Rule(
        EXFILTRATION,
        _URL_SLOT,
        "A web address with a blank to fill in with data.",
        ("http", "www."),
    ),
    _Rule(
        ENCODED,
        _DECODE_ORDER,
        "Asks the AI to decode hidden text.",
        ("decode", "decipher", "decrypt", "translate"),
    ),
)


def _readable(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(text) < 12:
        return None
    printable = sum(ch.isprintable() or ch in "\n\t" for ch in text)
    letters = sum(ch.isalpha() for ch in text)
    spaces = text.count(" ")
    if printable / len(text) < 0.95 or letters / len(text) < 0.5 or spaces < 2:
        return None
    return text


def _decode_payloads(text: str) -> list[tuple[str, str, str]]:
    """(encoding, encoded, decoded) for each encoded run that decodes to readable text."""
    found: list[tuple[str, str, str]] = []
    tokens = text.split()
    longest = max(map(len, tokens), default=0)
    pairs = sum(len(t) == 2 for t in tokens)
    for m in _B64.finditer(text) if longest >= 40 else ():
        run = m.group(0)
        if not (re.search(r"[a-z]", run) and re.search(r"[A-Z]", run)):
            continue  # an identifier or a hash, not base64 of text
        padded = run + "=" * (-len(run) % 4)
        try:
            raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            continue
        decoded = _readable(raw)
        if decoded:
            found.append(("base64", run, decoded))
    for m in _HEX.finditer(text) if longest >= 48 or pairs >= 24 else ():
        digits = re.sub(r"[\s:]", "", m.group(0))
        try:
            decoded = _readable(bytes.fromhex(digits[: len(digits) // 2 * 2]))
        except ValueError:
            continue
        if decoded:
            found.append(("hexadecimal", m.group(0), decoded))
    for m in _PERCENT.finditer(text) if "%" in text else ():
        decoded = _readable(unquote(m.group(0)).encode("utf-8", errors="ignore"))
        if decoded:
            found.append(("percent-encoding", m.group(0), decoded))
    return found


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def scan(text: str, _depth: int = 0) -> list[Finding]:
    """Findings for one passage, at most one per kind, most serious first."""
    form = scan_form(text)
    found: dict[str, Finding] = {}

    def add(kind: str, reason: str, evidence: str) -> None:
        found.setdefault(kind, Finding(kind, reason, _short(evidence)))

    runs = notable(strip_invisible(text)[1])
    if runs:
        found[INVISIBLE] = invisible_finding(runs)

    m = _TEMPLATE.search(form)
    if m:
        add(ROLE, "Contains a chat-template token that could start a fake message to the AI.", m[0])
    m = _ROLE_HEADING.search(form)
    if m:
        add(ROLE, "Contains a chat-role heading, as if a new message to the AI started here.", m[0])
    roles = [r.group(1).lower() for r in _ROLE_LINE.finditer(form)]
    if _STRONG_ROLES & set(roles) or len(set(roles)) >= 2:
        line = next(r for r in _ROLE_LINE.finditer(form))
        add(ROLE, "A line starts with a chat role (“Assistant:”, “System:” …).", line[0])

    low = form.lower()
    for rule in _RULES:
        if rule.kind in found:
            continue
        if rule.keywords and not any(k in low for k in rule.keywords):
            continue  # cheap test first: most passages contain none of the trigger words
        m = rule.pattern.search(form)
        if m:
            add(rule.kind, rule.reason, _sentence_around(form, m.start(), m.end()))
    if INSTRUCTION not in found and "your" in low:
        for s in _SENTENCES.finditer(form):
            order = _order_about_output(s.group(0))
            if order:
                add(INSTRUCTION, "Tells the AI what to put in its answer.", order)
                break

    for encoding, run, decoded in _decode_payloads(form):
        inner = scan(decoded, _depth + 1) if _depth < 2 else []
        worse = " It contains instructions for the AI." if inner else ""
        add(
            ENCODED,
            f"A long {encoding} string that decodes to text: “{_short(decoded, 60)}”.{worse}",
            run,
        )
        break
    order = (ROLE, INSTRUCTION, EXFILTRATION, ENCODED, INVISIBLE)
    return [found[k] for k in order if k in found]


def invisible_finding(runs: Sequence[InvisibleRun]) -> Finding:
    """One finding for the invisible characters removed from a passage."""
    kinds = list(dict.fromkeys(k for r in runs for k in r.kinds))
    count = sum(r.count for r in runs)
    message = " ".join(r.hidden_message for r in runs if r.hidden_message)
    reason = f"{count} invisible character{'s' if count != 1 else ''} removed ({', '.join(kinds)})."
    if message:
        reason += f" They spelled a hidden message: “{_short(message, 80)}”."
        if scan(message, 2):
            reason += " It contains instructions for the AI."
    return Finding(INVISIBLE, reason, _short(message) if message else "")


def _sentence_around(text: str, start: int, end: int) -> str:
    left = max(text.rfind(ch, 0, start) for ch in ".!?\n") + 1
    rights = [i for i in (text.find(ch, end) for ch in ".!?\n") if i != -1]
    right = min(rights) + 1 if rights else len(text)
    return text[left:right].strip()


def describe(findings: list[Finding]) -> str:
    return " ".join(f.reason for f in findings)


def flag_passages(
    chunks: Sequence[ChunkDraft],
    hidden: Sequence[HiddenText] = (),
    invisible: Mapping[int, Sequence[InvisibleRun]] | None = None,
    hidden_kept: bool = False,
) -> list[FlagDraft]:
    """Flags for a file's passages, its invisible characters (removed at loading, mapped
    back to the passages they were in) and its hidden text (in no passage)."""
    out: list[FlagDraft] = []
    for c in chunks:
        for f in scan(c.text):
            out.append(FlagDraft(c.page, f.kind, f.reason, f.evidence, c.ordinal))
        runs = [r for r in (invisible or {}).get(c.page, ()) if c.char_start <= r.at <= c.char_end]
        if runs:
            f = invisible_finding(runs)
            out.append(FlagDraft(c.page, f.kind, f.reason, f.evidence, c.ordinal))
    for h in hidden:
        fate = "kept in the passages" if hidden_kept else "left out of the passages"
        reason = f"Text a reader cannot see ({h.reason}), {fate}."
        inner = scan(h.text)
        if inner:
            reason += " " + inner[0].reason
        out.append(FlagDraft(h.page, HIDDEN, reason, h.text, None))
    return out
