"""Export to JSON and import back; malformed or foreign files are refused clearly."""

import json
from datetime import UTC, datetime

import pytest

from gptbuilder.errors import AssistantFileError
from gptbuilder.personas.definition import make_draft, unique_name
from gptbuilder.personas.share import export_json, parse_json
from gptbuilder.types import Assistant

NOW = datetime.now(UTC)
A = Assistant(
    7, "Tax helper", "Answers tax questions", "Be precise.", ("What is VAT?",), 0.3, NOW, NOW
)


def test_round_trip():
    d = parse_json(export_json(A).encode())
    assert (d.name, d.description, d.instructions, d.starters, d.temperature) == (
        A.name,
        A.description,
        A.instructions,
        A.starters,
        A.temperature,
    )


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not valid JSON"),
        (b"{not json", "not valid JSON"),
        (b"[]", "not a GPT Builder"),
        (json.dumps({"name": "x"}).encode(), "not a GPT Builder"),
        (
            json.dumps(
                {"format": "gptbuilder.assistant", "version": 99, "assistant": {"name": "x"}}
            ).encode(),
            "newer",
        ),
        (
            json.dumps(
                {"format": "gptbuilder.assistant", "version": 1, "assistant": {"name": ""}}
            ).encode(),
            "damaged",
        ),
        (
            json.dumps(
                {
                    "format": "gptbuilder.assistant",
                    "version": 1,
                    "assistant": {"name": "x", "starters": ["a"] * 5},
                }
            ).encode(),
            "damaged",
        ),
        (
            json.dumps(
                {
                    "format": "gptbuilder.assistant",
                    "version": 1,
                    "assistant": {"name": "x", "temperature": "hot"},
                }
            ).encode(),
            "damaged",
        ),
        (
            json.dumps(
                {
                    "format": "gptbuilder.assistant",
                    "version": 1,
                    "assistant": {"name": "x", "run": "rm -rf /"},
                }
            ).encode(),
            "damaged",
        ),
        (b"[" * 100000, "not valid JSON"),
        (b" " * 300_000, "too large"),
    ],
)
def test_bad_files_are_refused_with_a_reason(data, reason):
    with pytest.raises(AssistantFileError, match=reason):
        parse_json(data)


def test_validation_messages():
    with pytest.raises(Exception, match="name"):
        make_draft("   ")
    with pytest.raises(Exception, match="At most 4"):
        make_draft("x", starters=["a", "b", "c", "d", "e"])
    assert make_draft("  My   bot ", starters=["", " Hi ", None]).starters == ("Hi",)


def test_unique_name():
    assert unique_name("Bot", set()) == "Bot"
    assert unique_name("Bot", {"bot"}) == "Bot (2)"
    assert unique_name("Bot", {"bot", "bot (2)"}) == "Bot (3)"
