"""llama.cpp keeps an assistant's system message (up to the per-request canary) evaluated
between questions; the same prompt still gets the same answer, and nothing secret is kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gptbuilder.retrieval.prompt import PromptGuard, build_messages
from gptbuilder.types import Assistant, Hit

NOW = datetime.now(UTC)
ASSISTANT = Assistant(1, "A", "", "Be brief and factual.", (), 0.0, NOW, NOW)
TEXTS = [
    "The Normans were the people who in the 10th and 11th centuries gave their name to "
    "Normandy, a region in France. They descended from Norse raiders from Denmark, Iceland "
    "and Norway.",
    "Oxygen is a chemical element with symbol O and atomic number 8. It is a member of the "
    "chalcogen group on the periodic table and is a highly reactive nonmetal.",
]
HITS = [Hit(i, 1, "f.md", 1, 0, len(t), t, 1.0) for i, t in enumerate(TEXTS)]


@pytest.fixture
def llm(real_llm):
    before = real_llm.prefix_cache
    real_llm.prefix_cache = True
    yield real_llm
    real_llm.prefix_cache = before


def ask(llm, question: str, guard: PromptGuard) -> str:
    msgs, _ = build_messages(ASSISTANT, question, [], HITS, llm, 64, guard)
    return "".join(llm.stream_chat(msgs, 0.0, 24))


def test_the_same_prompt_gives_the_same_answer_with_the_prefix_kept(llm):
    g1, g2 = PromptGuard.new(), PromptGuard.new()
    llm.prefix_cache = False
    ask(llm, "What is oxygen?", g2)  # leaves a whole prompt in the cache, read in one go
    llm.prefix_cache = True
    first = ask(llm, "Where is Normandy?", g1)
    assert llm.last.reused_tokens == 0  # a prefix read within a whole prompt is not kept
    ask(llm, "What is oxygen?", g2)
    assert llm.last.reused_tokens > 20  # the system message up to the canary was kept
    again = ask(llm, "Where is Normandy?", g1)
    assert llm.last.reused_tokens > 20
    assert again == first


def test_the_kept_prefix_holds_neither_canary_nor_fence(llm):
    guard = PromptGuard.new()
    msgs, _ = build_messages(ASSISTANT, "Where is Normandy?", [], HITS, llm, 64, guard)
    tokens = llm._render(msgs)
    n = llm.reusable_tokens(msgs, tokens)
    kept = llm._llama.detokenize(tokens[:n]).decode("utf-8")
    assert n > 20 and "Be brief and factual." in kept and "SRC lines" in kept
    assert guard.canary not in kept and guard.tag not in kept and "Session" not in kept
    llm.prefix_cache = False
    assert llm.reusable_tokens(msgs, tokens) == 0


def test_the_prompt_is_the_one_llama_cpp_chat_completion_makes(llm):
    """Rendering the chat template here gives the tokens, and so the answer, of
    llama-cpp-python's own chat completion (what the app used before)."""
    llm.prefix_cache = False
    guard = PromptGuard.new()
    msgs, _ = build_messages(ASSISTANT, "Where is Normandy?", [], HITS, llm, 64, guard)
    ours = "".join(llm.stream_chat(msgs, 0.0, 24))
    llm._llama.reset()
    theirs = "".join(llm._chat_completion(msgs, 0.0, 24))
    assert ours == theirs
