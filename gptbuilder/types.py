"""Frozen dataclasses that flow between the steps of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Page:
    """Text of one page (1-based ``number``). Plain-text files are a single page 1."""

    number: int
    text: str


@dataclass(frozen=True)
class ChunkDraft:
    """A passage cut from one page, before it has a database id.

    ``char_start``/``char_end`` index into that page's text: ``page.text[char_start:char_end]``
    is exactly ``text``.
    """

    ordinal: int
    page: int
    char_start: int
    char_end: int
    text: str
    heading: str | None = None


@dataclass(frozen=True)
class HiddenText:
    """Text a reader cannot see (a PDF's white or invisible text, an HTML element hidden by
    its style): left out of the passages and reported."""

    page: int
    reason: str
    text: str


@dataclass(frozen=True)
class FlagDraft:
    """Why a passage (or hidden text) looks like it talks to the model, before it is stored.

    ``ordinal`` is the chunk's ordinal; None for hidden text, which is in no chunk.
    """

    page: int
    kind: str  # see safety.injection.KINDS
    reason: str  # plain language, shown to the owner
    evidence: str  # the words that triggered it
    ordinal: int | None = None


@dataclass(frozen=True)
class Flag:
    """A stored flag as the owner sees it in the Knowledge tab."""

    id: int
    document_id: int
    filename: str
    page: int
    kind: str
    reason: str
    evidence: str
    chunk_id: int | None  # None: hidden text, in no passage
    excluded: bool  # left out of answers (hidden text that was not indexed counts as excluded)
    passage: str  # the passage's text, or the hidden text


@dataclass(frozen=True)
class Assistant:
    id: int
    name: str
    description: str
    instructions: str
    starters: tuple[str, ...]
    temperature: float
    created_at: datetime
    updated_at: datetime
    model: str = ""  # "" is the app's default model; else a ModelChoice as JSON
    last_used_at: datetime | None = None  # when a message was last sent to it
    # "quote_first": the documents' best sentence, then the model's checked words;
    # "quotes_only": the documents' words only, no model prose.
    answer_style: str = "quote_first"


@dataclass(frozen=True)
class AssistantDraft:
    """What a user edits: everything of an assistant but its id and timestamps."""

    name: str
    description: str = ""
    instructions: str = ""
    starters: tuple[str, ...] = ()
    temperature: float = 0.2
    model: str = ""  # "" is the app's default model; else a ModelChoice as JSON
    answer_style: str = "quote_first"  # see Assistant


@dataclass(frozen=True)
class Document:
    id: int
    assistant_id: int
    filename: str
    sha256: str
    size_bytes: int
    media_type: str
    pages: int
    chunks: int
    status: str  # "processing" | "ready" | "failed"
    error: str | None
    created_at: datetime


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with where it came from.

    ``score`` ranks hits and is only comparable within one question: with hybrid retrieval it
    is the fused score (0..1 for the convex fusion). ``dense_score`` (cosine similarity of the
    question and the passage, -1..1) and ``keyword_score`` (raw BM25, 0 when no word of the
    question occurs in the passage) are absolute, so they can be compared across questions, for
    example to decide that nothing relevant was found. None where a retriever did not score it.
    """

    chunk_id: int
    document_id: int
    filename: str
    page: int
    char_start: int
    char_end: int
    text: str
    score: float
    dense_score: float | None = None  # cosine to the question, when fused with other scores
    keyword_score: float | None = None  # BM25
    # Provenance of the document, shown with citations: its content hash and upload time.
    sha256: str = ""
    uploaded_at: datetime | None = None


@dataclass(frozen=True)
class Citation:
    """Answer marker ``[number]`` pointing at a retrieved passage."""

    number: int
    hit: Hit
    quote: tuple[int, int] | None = None  # span of hit.text that supports the claim


@dataclass(frozen=True)
class Claim:
    """A sentence of the model's answer that passed the claim check: ``number`` is its
    citation, ``span`` the sentence(s) of that passage stating it, ``support`` the source words
    that match it (shown on hover)."""

    text: str  # the sentence as shown, without its marker
    number: int
    span: tuple[int, int]
    support: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConflictSide:
    """One side of a disagreement between the documents: citation ``number`` (its quote is
    the sentence stating it) gives ``value`` as the answer."""

    number: int
    value: str  # the answer this source gives, as written there


@dataclass(frozen=True)
class Answer:
    text: str  # with [n] markers renumbered to match ``citations``
    citations: tuple[Citation, ...]
    sources: tuple[Hit, ...]  # everything that was retrieved, best first
    abstained: bool = False  # the documents do not answer: ``sources`` are the closest passages
    dropped: int = 0  # sentences of the model's answer left out: no passage supports them
    extractive: bool = False  # the answer is a quote of the documents, not the model's words
    confidence: float | None = None  # 0..1, how likely the passages answer the question
    withheld: bool = False  # the model leaked the prompt's canary: nothing it wrote is shown
    # The documents' best sentence, quoted word for word above the model's words: citation
    # ``lead`` (its number) with its quote. 0: no lead quote.
    lead: int = 0
    claims: tuple[Claim, ...] = ()  # the model's shown sentences, each with its support
    # Sentences of the model left out, with why (plain words); ``dropped`` counts them.
    dropped_reasons: tuple[str, ...] = ()
    closest_quotes: tuple[tuple[int, int] | None, ...] = ()  # abstained: best sentence per source
    style: str = "quote_first"  # the assistant's answer style when it was given
    flagged_best: Hit | None = None  # an excluded (flagged) passage that matched best
    flagged_quote: tuple[int, int] | None = None  # its sentence closest to the question
    # The documents disagree on the answer (different names, dates or numbers for what the
    # question asks): each side, cited; no side is given as the answer.
    conflict: tuple[ConflictSide, ...] = ()


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "user" | "assistant"
    content: str
    citations: tuple[dict, ...] = field(default_factory=tuple)
    # An assistant message as it was understood (``usecases.saved.as_understood``): the ids of
    # the documents its answer cited, in the order first cited (closest passages shown when
    # nothing answered are not cited). Empty when not filled in, and for a user message.
    documents: tuple[int, ...] = ()


# The chunker's version (``ingest.chunk``): change it when the passages it makes change, so
# that passages made one way are never mixed with passages made another.
CHUNKER_VERSION = "1"


@dataclass(frozen=True)
class Chunking:
    """What produced a set of chunks and their vectors: the chunker's version and settings and
    the embedding model. Passages made one way are never mixed with passages made another."""

    size: int
    overlap: int
    embedding_model: str
    version: str = CHUNKER_VERSION

    def with_model(self, embedding_model: str) -> Chunking:
        """The same passages, embedded by another model."""
        return Chunking(self.size, self.overlap, embedding_model, self.version)

    def __str__(self) -> str:
        return (
            f"chunker {self.version}, {self.size}/{self.overlap} characters, {self.embedding_model}"
        )
