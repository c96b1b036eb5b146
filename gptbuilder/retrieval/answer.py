"""The answer pipeline: retrieve, build the prompt, stream the model, resolve citations."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from gptbuilder.backends.embedder import Embedder
from gptbuilder.backends.llm import LLM
from gptbuilder.db import Repository
from gptbuilder.retrieval.cite import MARKER, resolve_citations
from gptbuilder.retrieval.hybrid import Fusion, HybridRetriever
from gptbuilder.retrieval.index_store import IndexStore
from gptbuilder.retrieval.keyword_index import KeywordIndexStore
from gptbuilder.retrieval.prompt import build_messages
from gptbuilder.types import Answer, Assistant, ChatMessage, Hit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Partial:
    """One step of a streamed answer: the text so far, and the final Answer at the end."""

    text: str
    answer: Answer | None = None


class AnswerEngine:
    def __init__(
        self,
        repo: Repository,
        indexes: IndexStore,
        embedder: Embedder,
        llm: Callable[[], LLM],  # loaded on first use
        top_k: int,
        answer_tokens: int,
        keywords: KeywordIndexStore | None = None,  # None: dense retrieval only
        fusion: Fusion | None = None,
    ) -> None:
        self._repo = repo
        self._indexes = indexes
        self._retriever = HybridRetriever(repo, indexes, keywords, embedder, fusion)
        self._embedder = embedder
        self._llm = llm
        self._top_k = top_k
        self._answer_tokens = answer_tokens

    def retrieve(self, assistant_id: int, question: str, k: int | None = None) -> list[Hit]:
        """The k (default top_k) best passages, dense and keyword results fused."""
        return self._retriever.retrieve(assistant_id, question, k or self._top_k)

    def stream(
        self, assistant: Assistant, question: str, history: Sequence[ChatMessage]
    ) -> Iterator[Partial]:
        hits = self.retrieve(assistant.id, question)
        llm = self._llm()
        past = [ChatMessage(m.role, MARKER.sub("", m.content)) for m in history]
        messages, fitted = build_messages(assistant, question, past, hits, llm, self._answer_tokens)
        log.info("answering with %d sources for assistant %d", len(fitted), assistant.id)
        text = ""
        for piece in llm.stream_chat(messages, assistant.temperature, self._answer_tokens):
            text += piece
            yield Partial(MARKER.sub("", text))
        yield Partial(text, resolve_citations(text, fitted, self._embedder.embed))
