"""Prompt building fits the context window, keeps sources apart from instructions."""

from datetime import UTC, datetime

from gptbuilder.backends.llm import ExtractiveFakeLLM
from gptbuilder.retrieval.prompt import build_messages
from gptbuilder.types import Assistant, ChatMessage, Hit

NOW = datetime.now(UTC)
ASSISTANT = Assistant(1, "A", "", "Talk like a pirate.", (), 0.2, NOW, NOW)


def hits(n, words=50):
    return [Hit(i, 1, "f.pdf", i + 1, 0, 10, " ".join([f"w{i}"] * words), 1.0) for i in range(n)]


class Tiny(ExtractiveFakeLLM):
    context_window = 400


def test_instructions_in_system_sources_in_user_message():
    msgs, fitted = build_messages(ASSISTANT, "Why?", [], hits(2), ExtractiveFakeLLM(), 100)
    assert msgs[0]["role"] == "system" and "Talk like a pirate." in msgs[0]["content"]
    assert "w0" not in msgs[0]["content"]
    assert msgs[-1]["role"] == "user"
    assert "[1] w0 w0" in msgs[-1]["content"]
    assert msgs[-1]["content"].rstrip().endswith("Question: Why?")
    assert len(fitted) == 2


def test_sources_are_dropped_to_fit_the_window_and_numbering_follows_what_fitted():
    model = Tiny()
    msgs, fitted = build_messages(ASSISTANT, "Why?", [], hits(10), model, 100)
    total = sum(model.count_tokens(m["content"]) + model.per_message_overhead for m in msgs)
    assert total <= model.context_window - 100
    assert 0 < len(fitted) < 10
    assert f"[{len(fitted)}]" in msgs[-1]["content"]
    assert f"[{len(fitted) + 1}]" not in msgs[-1]["content"]


def test_history_is_trimmed_oldest_first_and_starts_with_the_user():
    model = Tiny()
    history = [
        ChatMessage("user" if i % 2 == 0 else "assistant", " ".join(["old"] * 40) + str(i))
        for i in range(10)
    ]
    msgs, _ = build_messages(ASSISTANT, "Why?", history, hits(1, 20), model, 100)
    past = msgs[1:-1]
    assert past, "some recent history should fit"
    assert past[0]["role"] == "user"
    assert past[-1]["content"].endswith("9")  # the newest turn is kept
    total = sum(model.count_tokens(m["content"]) + model.per_message_overhead for m in msgs)
    assert total <= model.context_window - 100
