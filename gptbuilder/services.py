"""Composition root: the one place that picks concrete backends from the settings."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from gptbuilder.backends.embedder import Embedder, SentenceTransformerEmbedder
from gptbuilder.backends.llm import LLM, LlamaCppLLM
from gptbuilder.backends.models import ModelRegistry
from gptbuilder.backends.vector_index import FaissIndex, VectorIndex
from gptbuilder.bundle.archive import BundleLimits
from gptbuilder.bundle.transfer import AssistantBundles
from gptbuilder.config import Settings
from gptbuilder.db import Repository
from gptbuilder.ingest.load import LoadLimits
from gptbuilder.library import FileStore, Library
from gptbuilder.retrieval.answer import AnswerEngine
from gptbuilder.retrieval.claims import analyzer
from gptbuilder.safety.injection_model import load_detector
from gptbuilder.search.hybrid import Fusion
from gptbuilder.search.index_store import IndexStore
from gptbuilder.search.keyword_index import KeywordIndexStore
from gptbuilder.tasks.engine import TaskEngine
from gptbuilder.usecases import Assistants, Chat, Knowledge, Sharing

log = logging.getLogger(__name__)


class LazyLLM:
    """Loads the model on first use, once, so the app starts fast and a broken model file
    shows up as an error in the chat instead of stopping the app."""

    def __init__(self, factory: Callable[[], LLM]) -> None:
        self._factory = factory
        self._llm: LLM | None = None
        self._lock = threading.Lock()

    def __call__(self) -> LLM:
        with self._lock:
            if self._llm is None:
                self._llm = self._factory()
            return self._llm


def build_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for; the torch one if the ONNX one cannot be made."""
    assert settings.embedding_model is not None, "no embedding model configured"
    if settings.embedding_backend == "onnx-int8":
        try:
            from gptbuilder.backends.onnx_embedder import OnnxEmbedder

            return OnnxEmbedder(
                settings.embedding_model,
                settings.onnx_cache_dir,
                query_threads=settings.query_threads,
            )
        except Exception as err:  # noqa: BLE001 - missing onnxruntime, failed export, ...
            log.warning(
                "the int8 ONNX embedder is not available (%r); using sentence-transformers", err
            )
    return SentenceTransformerEmbedder(
        settings.embedding_model, query_threads=settings.query_threads
    )


@dataclass
class Services:
    settings: Settings
    repo: Repository
    embedder: Embedder
    indexes: IndexStore
    keywords: KeywordIndexStore
    library: Library
    answers: AnswerEngine
    tasks: TaskEngine  # summaries, lists of every instance, comparisons; routing
    models: ModelRegistry
    llm: Callable[[], LLM] = field(repr=False)  # the app's default model
    bundles: AssistantBundles = field(repr=False)  # .gptb export and import
    # The use cases the UI calls (and only these), made from the parts above.
    assistants: Assistants = field(init=False, repr=False)
    knowledge: Knowledge = field(init=False, repr=False)
    chat: Chat = field(init=False, repr=False)
    sharing: Sharing = field(init=False, repr=False)

    def __post_init__(self) -> None:
        default_model = Path(str(self.settings.llm_model)).name
        self.assistants = Assistants(self.repo, self.library, self.models, default_model)
        self.knowledge = Knowledge(self.repo, self.library)
        self.chat = Chat(self.repo, self.answers, self.tasks)
        self.sharing = Sharing(self.repo, self.bundles)

    @classmethod
    def build(
        cls,
        settings: Settings,
        embedder: Embedder | None = None,
        llm: Callable[[], LLM] | None = None,
        new_index: Callable[[int], VectorIndex] = FaissIndex,
    ) -> Services:
        """Real backends unless fakes are passed in (tests)."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        repo = Repository(settings.database_url)
        if embedder is None:
            embedder = build_embedder(settings)
        if llm is None:
            llm = LazyLLM(
                lambda: LlamaCppLLM(
                    settings.llm_model,  # type: ignore[arg-type]
                    settings.llm_context,
                    settings.llm_threads,
                    **settings.llama_options,
                )
            )
        # Fakes keep their indexes in memory; the real ones are saved beside each other.
        if new_index is FaissIndex:
            ann = settings.ann_threshold  # size from which FAISS search is approximate
            index_dir: Path | None = settings.index_dir
            indexes = IndexStore(
                repo,
                index_dir,
                embedder.dim,
                partial(FaissIndex, ann_threshold=ann),
                partial(FaissIndex.load, ann_threshold=ann),
            )
        else:
            index_dir = None
            indexes = IndexStore(repo, None, embedder.dim, new_index)
        keywords = KeywordIndexStore(repo, index_dir)
        library = Library(
            repo,
            FileStore(settings.files_dir),
            indexes,
            embedder,
            settings.chunk_size,
            settings.chunk_overlap,
            settings.max_upload_mb * 1024 * 1024,
            LoadLimits(
                settings.max_pages,
                settings.ingest_timeout_s,
                settings.ocr,
                keep_hidden_text=settings.keep_hidden_text,
            ),
            keywords=keywords,
            exclude_flagged=settings.exclude_flagged,
            # The learned injection check, loaded once; None (with a warning) when its weights
            # cannot be read or were trained for another embedding model: rules only.
            detector=load_detector(embedder),
        )
        assert settings.models_dir is not None  # filled in by Settings
        models = ModelRegistry(
            llm,
            settings.models_dir,
            settings.llm_context,
            settings.llm_threads,
            **settings.llama_options,
        )
        answers = AnswerEngine(
            repo,
            indexes,
            embedder,
            lambda assistant: models.for_assistant(assistant.model),
            settings.top_k,
            settings.max_answer_tokens,
            abstain=settings.abstain,
            keywords=keywords,
            fusion=Fusion(settings.fusion, settings.dense_weight),
            datamark=settings.datamark,
            lean_tokens=settings.lean_tokens,
        )
        # The same per-assistant model and the process's one spaCy pipeline as answers use.
        tasks = TaskEngine(
            repo, embedder, lambda assistant: models.for_assistant(assistant.model), nlp=analyzer()
        )
        mb = 1024 * 1024
        bundles = AssistantBundles(
            repo,
            library,
            embedder,
            settings.chunk_size,
            settings.chunk_overlap,
            settings.work_dir,
            BundleLimits(
                max_bytes=settings.bundle_max_mb * mb,
                max_documents=settings.bundle_max_files,
                max_document_bytes=settings.max_upload_mb * mb,
                max_unpacked_bytes=settings.bundle_max_unpacked_mb * mb,
                max_ratio=settings.bundle_max_ratio,
            ),
        )
        library.recover()
        return cls(
            settings,
            repo,
            embedder,
            indexes,
            keywords,
            library,
            answers,
            tasks,
            models,
            llm,
            bundles,
        )

    def warm_up(self) -> None:
        """Build now what the first upload would otherwise wait for (the embedder's batch
        sessions); app.py calls it in the background while the server starts."""
        prepare = getattr(self.embedder, "prepare", None)
        if prepare is not None:
            t = time.perf_counter()
            prepare()
            log.info("embedder ready for uploads (%.1f s)", time.perf_counter() - t)

    def close(self) -> None:
        self.repo.close()
