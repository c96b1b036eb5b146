"""What makes a valid assistant, checked the same way for the editor and for imports."""

from __future__ import annotations

from collections.abc import Iterable

from gptbuilder.errors import InvalidInput
from gptbuilder.types import AssistantDraft

MAX_NAME = 80
MAX_DESCRIPTION = 500
MAX_INSTRUCTIONS = 8000
MAX_STARTERS = 4
MAX_STARTER = 200
ANSWER_STYLES = ("quote_first", "quotes_only")  # see types.Assistant.answer_style


def make_draft(
    name: str,
    description: str = "",
    instructions: str = "",
    starters: Iterable[str | None] = (),
    temperature: float = 0.2,
    model: str = "",
    answer_style: str = "quote_first",
) -> AssistantDraft:
    """Validate and tidy user input; raises InvalidInput with a message for the user."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Give the assistant a name.")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"The name is too long (at most {MAX_NAME} characters).")
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"The description is too long (at most {MAX_DESCRIPTION} characters).")
    instructions = (instructions or "").strip()
    if len(instructions) > MAX_INSTRUCTIONS:
        raise InvalidInput(
            f"The instructions are too long (at most {MAX_INSTRUCTIONS} characters)."
        )
    kept = tuple(" ".join(s.split()) for s in starters if s and s.strip())
    if len(kept) > MAX_STARTERS:
        raise InvalidInput(f"At most {MAX_STARTERS} conversation starters.")
    if any(len(s) > MAX_STARTER for s in kept):
        raise InvalidInput(
            f"A conversation starter is too long (at most {MAX_STARTER} characters)."
        )
    try:
        temperature = float(temperature)
    except (TypeError, ValueError) as err:
        raise InvalidInput("The temperature must be a number between 0 and 1.5.") from err
    if not 0.0 <= temperature <= 1.5:
        raise InvalidInput("The temperature must be between 0 and 1.5.")
    if answer_style not in ANSWER_STYLES:
        raise InvalidInput("Choose how answers are shown: quote first, or quotes only.")
    return AssistantDraft(
        name, description, instructions, kept, round(temperature, 2), model, answer_style
    )


def unique_name(name: str, taken: set[str]) -> str:
    """'Name', or 'Name (2)', 'Name (3)'... whichever is free (``taken`` is lower-cased)."""
    if name.lower() not in taken:
        return name
    n = 2
    while True:
        suffix = f" ({n})"
        candidate = name[: MAX_NAME - len(suffix)] + suffix
        if candidate.lower() not in taken:
            return candidate
        n += 1
