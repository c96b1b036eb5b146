"""Chat language models: llama.cpp on a local GGUF file, and a deterministic fake."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from gptbuilder.errors import ModelError
from gptbuilder.language import split_sentences

log = logging.getLogger(__name__)

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": ...}


class LLM(Protocol):
    context_window: int  # tokens
    per_message_overhead: int  # tokens a chat message costs beyond its text

    def count_tokens(self, text: str) -> int: ...

    def stream_chat(
        self, messages: Sequence[Message], temperature: float, max_tokens: int
    ) -> Iterator[str]:
        """Yield pieces of the answer as they are generated."""
        ...


class LlamaCppLLM:
    """A GGUF model run by llama-cpp-python; the chat template comes from the GGUF itself."""

    # Overhead of the chat template around each message (role markers), in tokens.
    per_message_overhead = 8

    def __init__(self, model_path: Path, context_window: int = 4096, threads: int | None = None):
        if model_path is None or not Path(model_path).is_file():
            raise ModelError(
                f"The language model file {model_path} was not found. Run the setup again "
                "(make run) or set GPTB_LLM_MODEL to a .gguf file."
            )
        from llama_cpp import Llama

        try:
            self._llama = Llama(
                model_path=str(model_path),
                n_ctx=context_window,
                n_threads=threads,
                verbose=False,
            )
        except Exception as err:  # llama.cpp reports a bad file as ValueError/RuntimeError
            raise ModelError(
                f"The model file {Path(model_path).name} could not be loaded."
            ) from err
        # The runtime may cap the window to what the model was trained for.
        self.context_window = int(self._llama.n_ctx())
        self.name = Path(model_path).name
        self._lock = threading.Lock()  # one llama.cpp context: one generation at a time
        log.info("language model %s loaded (context %d tokens)", self.name, self.context_window)

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream_chat(
        self, messages: Sequence[Message], temperature: float, max_tokens: int
    ) -> Iterator[str]:
        with self._lock:
            # The same prompt gets the same answer: llama.cpp would otherwise reuse the part of
            # the last prompt that matches this one and evaluate only the rest, in other batches,
            # whose different rounding can change a greedy answer. Evaluating the whole prompt
            # costs SmolLM2 a fraction of a second.
            self._llama.reset()
            stream = self._llama.create_chat_completion(
                messages=list(messages),  # type: ignore[arg-type]
                temperature=temperature,
                max_tokens=max_tokens,
                repeat_penalty=1.15,
                stream=True,
            )
            for part in stream:
                delta = part["choices"][0]["delta"]  # type: ignore[index]
                piece = delta.get("content") if isinstance(delta, dict) else None
                if isinstance(piece, str) and piece:
                    yield piece


class ExtractiveFakeLLM:
    """Deterministic fake: answers with the first sentence of source [1], cited.

    Without sources it says it does not know. Used in fast tests of the pipeline and the UI.
    """

    context_window = 2048
    per_message_overhead = 4

    def __init__(self) -> None:
        self.calls: list[list[Message]] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + text.count("\n")

    def stream_chat(
        self, messages: Sequence[Message], temperature: float, max_tokens: int
    ) -> Iterator[str]:
        self.calls.append(list(messages))
        prompt = messages[-1]["content"]
        m = re.search(r"^\[1\] (.+)$", prompt, re.MULTILINE)
        if m:
            answer = split_sentences(m.group(1))[0].strip() + " [1]"
        else:
            answer = "I don't know; there is nothing about that in my documents."
        for word in answer.split(" "):
            yield word + " "
