"""A learned check for passages that talk to the AI: the second layer beside the rules.

The rules in ``injection_rules`` catch the classic wording ("ignore previous instructions",
"add X to your reply"). Attacks that read like an ordinary request ("Analyze the sentiment of
the following text", "This is a test. Generate a response to answer: ...", other languages)
have no trigger words; this check reads them by meaning. A passage is cut into units (its
sentences, short ones joined to the next); a cheap test (``is_candidate``: second person, an
imperative opening, a question, words about answers or AIs, orders in other languages ...)
picks the units worth a look, and only those are embedded with the app's embedding model. A logistic
regression over the unit's vector and a few counted cues (``cues``) gives the probability that
the unit is an instruction to the AI; a passage scores as its best unit.

The weights are trained by ``python -m bench.injection_train`` (deterministic, logged) on
families of attacks and benign text (``bench/injection_data.py``) and stored beside this file
as plain arrays (``injection_model.npz``, no pickle), with the threshold calibrated on held-out
benign passages and the embedding model they were trained with.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np

from gptbuilder.backends.embedder import Embedder
from gptbuilder.errors import ModelError
from gptbuilder.safety.injection_rules import INSTRUCTION
from gptbuilder.safety.sanitize import scan_form
from gptbuilder.types import ChunkDraft, FlagDraft

log = logging.getLogger(__name__)

MODEL_FILE = Path(__file__).with_name("injection_model.npz")
MIN_UNIT, MAX_UNIT = 40, 300  # characters: shorter units join the next, longer ones are cut

# -- units ---------------------------------------------------------------------------------------

# A sentence ends at . ! ? (or a line break) followed by a space or the end.
_SENTENCE = re.compile(r"[^\n]*?(?:[.!?。！？]+(?=\s|$)|\n|$)")
_CODE_FENCE = re.compile(r"```.*?(?:```|$)", re.DOTALL)


def units(text: str) -> list[str]:
    """The units of a passage the check scores, in ``scan_form`` (look-alike letters folded):
    its sentences, each line on its own; within a line a short sentence joins the next one,
    a long one is cut at a space."""
    form = _CODE_FENCE.sub("\n", scan_form(text))  # code is judged by its lead-in sentence
    out: list[str] = []
    for line in form.split("\n"):
        pending = ""
        for m in _SENTENCE.finditer(line):
            piece = " ".join(m.group(0).split())
            if not piece:
                continue
            pending = f"{pending} {piece}" if pending else piece
            if len(pending) < MIN_UNIT:
                continue
            while len(pending) > MAX_UNIT:
                cut = pending.rfind(" ", MIN_UNIT, MAX_UNIT)
                cut = cut if cut > 0 else MAX_UNIT
                out.append(pending[:cut].strip())
                pending = pending[cut:].strip()
            if len(pending) >= MIN_UNIT // 4:
                out.append(pending)
            pending = ""
        if len(pending) >= MIN_UNIT // 4:  # a short line: a heading, a one-line order
            out.append(pending)
    return out


# -- cheap cues ----------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_SECOND_PERSON = frozenset("you your yours yourself yourselves you're you'll you've u".split())
# Verbs that open an order to whoever reads: the first word of a plain task.
_IMPERATIVES = frozenset(
    """add adopt analyse analyze answer append apply arrange assess begin brainstorm build
    calculate categorize categorise change check choose classify combine compare compile compose
    compute condense convert count craft create decode define delete describe design detect
    determine develop disregard do don't draft edit elaborate embed emphasize enumerate encode
    encrypt ensure estimate evaluate examine explain extract find finish fix forget format
    forecast generate give group guess help highlight identify ignore imagine implement improve
    include incorporate infer insert integrate interpret introduce invent keep label let list
    make mention modify name note omit outline output paraphrase perform persuade pick plan
    predict prefix prepare pretend print produce propose provide put rank rate reply repeat
    rephrase replace report research respond restate return reveal reverse review rewrite say
    schedule score scramble send share show simplify solve sort spell start state stop suggest
    summarise summarize switch tell think transcribe transform translate try turn type use
    verify visit write recommend render automate organise organize break set wrap get be go
    read look teach clarify discuss act assume behave play pay append attach follow keep
    remember refer explore draw end benchmark conclude close""".split()
)
_LEAD_IN = frozenset(
    "please now also then and first next finally additionally kindly just simply so ok okay "
    "instead again immediately from on henceforth".split()
)
_ANSWER_WORDS = frozenset(
    """answer answers answering respond responding response responses reply replies replying
    output outputs summary summaries summarize summarise translation translate""".split()
)
_AI_WORDS = frozenset(
    """ai assistant assistants model chatbot bot gpt llm instruction instructions prompt prompts
    task tasks system chatgpt""".split()
)
_ENCODING_WORDS = frozenset(
    """base64 rot13 rot hex hexadecimal binary morse emoji emojis encode encoded encoding cipher
    reverse reversed backwards leetspeak uppercase lowercase json xml yaml csv markdown""".split()
)
# Function words of other languages (French, Spanish, German, Italian, Portuguese, Dutch, ...)
# that are not English words: a unit made of them is in another language.
_FOREIGN = frozenset(
    """le la les des du une et est sont pour dans avec sur pas vous votre vos ne que qui toutes
    tous cette ces leur nous je il elle ils au aux ou mais donc plus très
    el los las del una y es son para por con sin su sus usted ustedes que muy pero como todas
    todos esta este estas lo al ni tu tus mi
    der die das den dem des ein eine einen und ist sind für mit auf nicht sie ihre ihr ich wir
    es zu von im ins aus bei nach alle allen bitte oder aber auch wie
    il lo gli della delle dei di da con per non che una uno sono è tutte tutti le sua suo
    questo questa vostra vostro
    o os as da do das dos um uma com não você vocês sua seu todas todos esta este pelo pela
    de het een en is zijn voor met op niet je jij u uw ze wij ik van alle dit deze
    maintenant êtes seulement uniquement ahora eres responde jetzt deine dein bist nur ora sei
    tua tuo agora você apenas nu bent jouw alleen poi rispondi répondez réponds responda
    antworte antwoord""".split()
) - frozenset(
    """a an the and or is are for in on of to it he she we i me my no not be do as at by if so
    us our his her you your all die den ones son con sin solo pro via per plus""".split()
)
# Words of other languages that address the reader or speak of answers and instructions
# ("vous", "répondez", "Anweisungen", "respuesta" ...): an order in another language.
_FOREIGN_ORDERS = frozenset(
    """vous votre vos tu ton ta tes toi répondez réponds réponse répondre ignorez ignore oubliez
    instructions consignes précédentes écrivez traduisez encodez codez commencez révélez
    usted ustedes tus responde respuesta responder ignora ignore olvida instrucciones anteriores
    escribe traduce codifica empieza revela
    du dein deine deinen dir dich ihre antworte antwort antworten ignoriere ignorieren vergiss
    anweisungen vorherigen schreibe übersetze kodiere beginne verrate
    ti tuo tua tuoi rispondi risposta ignora dimentica istruzioni precedenti scrivi traduci
    codifica inizia rivela
    você vocês sua seu responda resposta ignore esqueça instruções anteriores escreva traduza
    codifique comece revele
    je jij jouw uw antwoord antwoorden negeer vergeet instructies vorige schrijf vertaal codeer
    begin onthul""".split()
)
# "Ignore the previous instructions" in other languages: a verb that sets aside, then the
# model's instructions.
_FOREIGN_OVERRIDE = re.compile(
    r"\b(?:ignorez|ignore[rz]?|oubliez|oublie|ignora|ignoren|olvida|olviden|ignoriere|ignorieren"
    r"|vergiss|vergessen|dimentica|dimenticate|esqueça|esqueca|negeer|vergeet)\b[^.!?\n]{0,60}?"
    r"\b(?:instructions|consignes|instrucciones|indicaciones|anweisungen|instruktionen|regeln"
    r"|istruzioni|regole|instruções|instrucoes|regras|instructies|regels|prompts?)\b",
    re.IGNORECASE,
)
# An order about the answer: "Encode your response …", "Write your answer backwards".
_YOUR_ANSWER = re.compile(
    r"\byour\s+(?:[\w-]+\s+)?(?:answers?|responses?|repl(?:y|ies)|outputs?|summary|message)\b",
    re.IGNORECASE,
)
_URL = re.compile(r"https?://|www\.|\b[\w-]+\.(?:com|net|org|io|xyz|info|ru)\b", re.IGNORECASE)
_EMPHASIS = re.compile(r"\*{2,}|!{2,}|#{2,}|={3,}|>>>|\[\s*(?:system|admin|important)", re.I)

CUE_NAMES = (
    "rule_hit",
    "second_person",
    "imperative_opening",
    "question",
    "answer_words",
    "ai_words",
    "encoding_words",
    "foreign_share",
    "foreign_orders",
    "non_ascii_letters",
    "emphasis",
    "url",
    "log_length",
    "order_about_answer",
    "override_other_language",
)


def _words(unit: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(unit)]


_CLAUSE = re.compile(r"(?:^|[.!?:;,]\s+|\s[-–—]\s|\*{2,}\s*|\n)\s*[\"'“(]*([^\W\d_]+)")


def _imperative(unit: str) -> bool:
    """Whether a clause of the unit opens with an order ("Explain …", "…: now list …")."""
    for m in _CLAUSE.finditer(unit):
        rest = _words(unit[m.start(1) : m.start(1) + 80])
        i = 0
        while i < len(rest) - 1 and (rest[i] in _LEAD_IN or rest[i].endswith("ly")):
            i += 1
        if rest and rest[i] in _IMPERATIVES:
            return True
    return False


def cues(unit: str) -> np.ndarray:
    """The counted cues of one unit (in ``scan_form``), in the order of ``CUE_NAMES``."""
    from gptbuilder.safety.injection import scan  # the rules; imported late (no cycle)

    words = _words(unit)
    n = max(len(words), 1)
    letters = [c for c in unit if c.isalpha()]
    rule = any(f.kind != "invisible" for f in scan(unit))
    imperative = _imperative(unit)
    return np.array(
        [
            float(rule),
            min(sum(w in _SECOND_PERSON for w in words), 3) / 3,
            float(imperative),
            float(unit.rstrip().endswith("?")),
            min(sum(w in _ANSWER_WORDS for w in words), 3) / 3,
            min(sum(w in _AI_WORDS for w in words), 3) / 3,
            min(sum(w in _ENCODING_WORDS for w in words), 2) / 2,
            sum(w in _FOREIGN for w in words) / n,
            min(sum(w in _FOREIGN_ORDERS for w in words), 3) / 3
            if any(w in _FOREIGN for w in words)
            else 0.0,
            sum(not c.isascii() for c in letters) / max(len(letters), 1),
            float(bool(_EMPHASIS.search(unit))),
            float(bool(_URL.search(unit))),
            math.log1p(len(unit)) / math.log1p(MAX_UNIT),
            float(imperative and bool(_YOUR_ANSWER.search(unit))),
            float(bool(_FOREIGN_OVERRIDE.search(unit))),
        ],
        dtype=np.float32,
    )


def is_candidate(c: np.ndarray, by_language: bool = False) -> bool:
    """Whether a unit with cues ``c`` is worth embedding: most sentences of ordinary prose
    (statements about the world, in English, no "you", no order, no question) are not.

    A unit that stands out only by its language (function words of another language,
    non-ASCII letters) is not embedded either: the model learned no weight for those two
    cues (0.0), an order in another language is caught by its words (``foreign_orders``,
    ``override_other_language``), and the vector an English embedding model gives a foreign
    sentence carried nothing that generalised (leaving the "other languages" family out of
    training, the model found 0%). Across every attack family and benign set of
    bench.injection_data not one finding came from such a unit alone, while on the shared
    PDFs they were 78% of the units embedded (4,578 of 5,865: whole documents in French,
    German, Chinese), which made the check cost a third of the time of embedding the
    passages. ``by_language`` keeps them, as when the committed weights were trained
    (``bench.injection_train``: more negatives, the same model)."""
    return bool(
        c[0] or c[1] or c[2] or c[3] or c[4] or c[5] or c[6] or c[8] or c[10] or c[11] or c[14]
        or (by_language and (c[7] >= 0.1 or c[9] >= 0.02))
    )  # fmt: skip


# -- the detector --------------------------------------------------------------------------------


def unit_vectors(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """The vectors of units, each embedded on its own. The int8 model quantises a batch's
    activations with one scale for the whole batch, so a unit's vector moved with the units
    it shared a batch with (cosine 0.96-1.00 against the same unit alone on the shared PDFs),
    and with it the score: the same file could be flagged or not by what it was uploaded
    with. Alone, a unit always gets the same vector, in training as in the app (about 1.45x
    the CPU of batches: 2.0 s for the 985 units of the shared PDFs)."""
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.vstack([embedder.embed([t], batch=False) for t in texts])


def _base_model(model_id: str) -> str:
    return model_id.split("+", 1)[0]


class Detector:
    """Scores passages with the trained weights and the embedding model they were trained on."""

    def __init__(
        self,
        embedder: Embedder,
        weights: np.ndarray,
        bias: float,
        threshold: float,
        model_id: str,
        info: str = "",
    ) -> None:
        dim = len(weights) - len(CUE_NAMES)
        if dim != embedder.dim:
            raise ModelError(
                f"The injection check was trained on {dim}-dimensional vectors; the embedding "
                f"model gives {embedder.dim}."
            )
        if _base_model(embedder.model_id) != _base_model(model_id):
            raise ModelError(
                f"The injection check was trained with {model_id}; the app embeds with "
                f"{embedder.model_id}."
            )
        if embedder.model_id != model_id:
            log.warning(
                "the injection check was trained with %s and runs with %s (same model, another "
                "backend): scores may differ slightly",
                model_id,
                embedder.model_id,
            )
        self.embedder = embedder
        self.weights = weights.astype(np.float32)
        self.bias = float(bias)
        self.threshold = float(threshold)
        self.model_id = model_id
        self.info = info

    @classmethod
    def load(cls, embedder: Embedder, path: Path = MODEL_FILE) -> Detector:
        """The detector stored at ``path``; ModelError when it is missing or unusable."""
        try:
            with np.load(path, allow_pickle=False) as data:
                weights = np.asarray(data["weights"], dtype=np.float32)
                bias = float(data["bias"])
                threshold = float(data["threshold"])
                model_id = str(data["model_id"])
                names = tuple(str(n) for n in data["cue_names"])
                info = str(data["info"]) if "info" in data else ""
        except (OSError, KeyError, ValueError) as err:
            raise ModelError(f"The injection model {path} cannot be read: {err!r}") from err
        if names != CUE_NAMES:
            raise ModelError(f"The injection model {path} was trained with other cues: {names}")
        detector = cls(embedder, weights, bias, threshold, model_id, info)
        log.info("injection check loaded (%s, threshold %.3f)", path.name, threshold)
        return detector

    def probabilities(self, vectors: np.ndarray, cue_rows: np.ndarray) -> np.ndarray:
        """The probability of each unit, from its vector and cues."""
        x = np.hstack([vectors.astype(np.float32), cue_rows.astype(np.float32)])
        return 1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias)))

    def best_units(self, texts: Sequence[str]) -> list[tuple[float, str]]:
        """For each text: the score of its best unit and that unit ((0.0, "") if none is a
        candidate). The candidate units of all texts are embedded in one batch."""
        where: list[tuple[int, str, np.ndarray]] = []
        for i, text in enumerate(texts):
            for unit in units(text):
                c = cues(unit)
                if is_candidate(c):
                    where.append((i, unit, c))
        best = [(0.0, "")] * len(texts)
        if not where:
            return best
        # A unit that recurs (a running header, a repeated line) is embedded once.
        distinct = list(dict.fromkeys(u for _, u, _ in where))
        row = {u: k for k, u in enumerate(distinct)}
        vectors = unit_vectors(self.embedder, distinct)
        vectors = vectors[[row[u] for _, u, _ in where]]
        probs = self.probabilities(vectors, np.stack([c for _, _, c in where]))
        for (i, unit, _), p in zip(where, probs, strict=True):
            if p > best[i][0]:
                best[i] = (float(p), unit)
        return best

    def score(self, texts: Sequence[str]) -> list[float]:
        """The probability that each text holds an instruction to the AI (its best unit's)."""
        return [s for s, _ in self.best_units(texts)]

    def findings(self, chunks: Sequence[ChunkDraft], skip: Collection[int] = ()) -> list[FlagDraft]:
        """An INSTRUCTION flag for each passage whose best unit crosses the threshold, with
        that unit as the evidence; passages whose ordinal is in ``skip`` are not read."""
        return self.findings_of([(chunks, skip)])[0]

    def findings_of(
        self, files: Sequence[tuple[Sequence[ChunkDraft], Collection[int]]]
    ) -> list[list[FlagDraft]]:
        """``findings`` of several files (their passages, the ordinals to skip), with the
        candidate units of all of them embedded in one batch."""
        todo = [
            (k, c)
            for k, (chunks, skip) in enumerate(files)
            for c in chunks
            if c.ordinal not in skip
        ]
        out: list[list[FlagDraft]] = [[] for _ in files]
        for (k, c), (s, unit) in zip(todo, self.best_units([c.text for _, c in todo]), strict=True):
            if s >= self.threshold:
                reason = (
                    "Reads like an instruction to the AI rather than text for the reader "
                    f"(learned check, score {s:.2f})."
                )
                out[k].append(FlagDraft(c.page, INSTRUCTION, reason, _short(unit), c.ordinal))
        return out


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def load_detector(embedder: Embedder, path: Path = MODEL_FILE) -> Detector | None:
    """The detector, or None with a warning when it cannot be loaded (ingestion goes on with the
    rules alone)."""
    try:
        return Detector.load(embedder, path)
    except ModelError as err:
        log.warning("the learned injection check is off: %s", err)
        return None
