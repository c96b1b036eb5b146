"""A question longer than the model can read gets a plain-language error that names the limit."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from gptbuilder.backends.llm import ExtractiveFakeLLM
from gptbuilder.errors import GPTBuilderError, InvalidInput, TooLongForModel
from gptbuilder.retrieval.prompt import build_messages
from gptbuilder.types import Assistant, Hit
from gptbuilder.ui.handlers import Handlers

NOW = datetime.now(UTC)
ASSISTANT = Assistant(1, "A", "", "Be brief.", (), 0.2, NOW, NOW)


class Tiny(ExtractiveFakeLLM):
    context_window = 400  # the fake counts one token a word


def about(message: str) -> int:
    m = re.search(r"about ([\d,]+) words at a time", message)
    assert m, message
    return int(m.group(1).replace(",", ""))


def test_a_question_too_long_for_the_model_says_so_and_names_the_limit():
    question = " ".join(["why"] * 1000)
    hit = Hit(1, 1, "f.txt", 1, 0, 5, "Some text.", 1.0)
    with pytest.raises(TooLongForModel) as caught:
        build_messages(ASSISTANT, question, [], [hit], Tiny(), 100)
    err = caught.value
    assert isinstance(err, InvalidInput) and isinstance(err, GPTBuilderError)
    message = str(err)
    assert message.startswith("Your question is too long for this assistant's model")
    assert "including the instructions" in message and "Please shorten it." in message
    assert "about 1,000 words" in message  # the question's own length
    # 400 tokens less 100 for the answer and a safety margin: about 250 words
    assert 200 <= about(message) <= 300
    assert "context window" not in message


def test_a_question_that_fits_is_answered_as_before():
    question = " ".join(["why"] * 200)
    msgs, _ = build_messages(ASSISTANT, question, [], [], Tiny(), 100)
    assert msgs[-1]["content"].endswith(question)


def test_instructions_too_long_for_the_model_are_named_not_the_question():
    wordy = Assistant(1, "A", "", " ".join(["rule"] * 500), (), 0.2, NOW, NOW)
    with pytest.raises(TooLongForModel, match="instructions are too long") as caught:
        build_messages(wordy, "Why?", [], [], Tiny(), 100)
    assert "Please shorten the instructions" in str(caught.value)


def test_the_chat_shows_the_message_not_something_went_wrong(fake_services):
    h = Handlers(fake_services)
    saved = h.save_assistant(None, "Helper", "Answers", "Be brief.", "", "", "", "", 0)
    aid = saved["current"]
    assert aid is not None, saved["notice"]
    question = " ".join(["Why?"] * 5000)  # longer than the fake model's 2048 tokens
    *_, (history, box) = h.chat(aid, question, [])
    reply = history[-1]["content"]
    assert "Something went wrong" not in reply
    assert "Your question is too long for this assistant" in reply and "words at a time" in reply
    assert box == question  # the question stays in the box, to be shortened
