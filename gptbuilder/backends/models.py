"""Which language model answers for an assistant, and the OpenAI-compatible HTTP backend.

An assistant uses the app's default model (the bundled SmolLM2, or GPTB_LLM_MODEL), a GGUF file
from the models folder, or an OpenAI-compatible chat server (llama.cpp server, Ollama, vLLM,
LM Studio). The choice is stored with the assistant as a small JSON object.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from gptbuilder.backends.llm import LLM, LlamaCppLLM, Message
from gptbuilder.errors import InvalidInput, ModelError

log = logging.getLogger(__name__)

KINDS = ("default", "gguf", "server")


@dataclass(frozen=True)
class ModelChoice:
    kind: str = "default"  # "default" | "gguf" | "server"
    file: str = ""  # gguf: a file name inside the models folder (never a path)
    base_url: str = ""  # server: e.g. http://127.0.0.1:8080/v1
    model: str = ""  # server: the model name the server expects
    api_key: str = ""  # server: sent as a bearer token; not exported with the assistant
    context_window: int = 4096  # server: tokens

    @classmethod
    def parse(cls, stored: str) -> ModelChoice:
        if not stored.strip():
            return cls()
        try:
            raw = json.loads(stored)
            choice = cls(**{k: raw[k] for k in asdict(cls()) if k in raw})
        except (ValueError, TypeError) as err:
            raise InvalidInput("The assistant's model setting could not be read.") from err
        return choice.validated()

    def validated(self) -> ModelChoice:
        if self.kind not in KINDS:
            raise InvalidInput(f"Unknown kind of model “{self.kind}”.")
        if self.kind == "gguf":
            if (
                not self.file
                or Path(self.file).name != self.file
                or not self.file.endswith(".gguf")
            ):
                raise InvalidInput("Choose a .gguf file from the models folder.")
        if self.kind == "server":
            url = urlparse(self.base_url)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise InvalidInput(
                    "The server address must start with http:// or https://, "
                    "for example http://127.0.0.1:8080/v1"
                )
            if not self.model.strip():
                raise InvalidInput("Give the name of the model the server should use.")
            if not 512 <= int(self.context_window) <= 1_000_000:
                raise InvalidInput("The context window must be between 512 and 1,000,000 tokens.")
        return self

    def dumps(self) -> str:
        return "" if self.kind == "default" else json.dumps(asdict(self))

    def label(self) -> str:
        if self.kind == "gguf":
            return self.file
        if self.kind == "server":
            return f"{self.model} at {self.base_url}"
        return "default model"


def list_gguf(models_dir: Path) -> list[str]:
    """GGUF files a user dropped into the models folder, by name."""
    if not models_dir.is_dir():
        return []
    return sorted(p.name for p in models_dir.glob("*.gguf") if p.is_file())


class OpenAICompatibleLLM:
    """A chat model behind an OpenAI-compatible ``/chat/completions`` endpoint, streamed (SSE).

    Token counts are estimated (no tokenizer of the remote model here): 1 token per 3
    characters, which over-counts English text, so the prompt never overflows the window.
    """

    per_message_overhead = 8
    CHARS_PER_TOKEN = 3

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        context_window: int = 4096,
        timeout_s: float = 120.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.context_window = context_window
        self.name = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout_s

    def count_tokens(self, text: str) -> int:
        return len(text) // self.CHARS_PER_TOKEN + 1

    def stream_chat(
        self, messages: Sequence[Message], temperature: float, max_tokens: int
    ) -> Iterator[str]:
        import httpx

        body = {
            "model": self.model,
            # Only what the API defines (a message may carry hints for the local backend).
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "temperature": temperature,
            "max_tokens": max_tokens,
            "stream": True,
        }
        url = f"{self.base_url}/chat/completions"
        try:
            with httpx.stream(
                "POST", url, json=body, headers=self._headers, timeout=self._timeout
            ) as resp:
                if resp.status_code != 200:
                    resp.read()
                    raise ModelError(
                        f"The model server answered {resp.status_code}: "
                        f"{resp.text[:200].strip() or resp.reason_phrase}"
                    )
                for line in resp.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    try:
                        delta = json.loads(data)["choices"][0].get("delta") or {}
                    except (ValueError, KeyError, IndexError, TypeError):
                        log.warning("unreadable event from the model server: %.100s", data)
                        continue
                    piece = delta.get("content")
                    if piece:
                        yield piece
        except httpx.HTTPError as err:
            raise ModelError(
                f"The model server at {self.base_url} could not be reached "
                f"({err.__class__.__name__}). Is it running?"
            ) from err


class ModelRegistry:
    """Builds the model an assistant asks for, keeping loaded GGUF models for reuse.

    Local models are large, so only the most recently used ``keep`` of them stay loaded.
    """

    def __init__(
        self,
        default: Callable[[], LLM],
        models_dir: Path,
        context_window: int,
        threads: int | None,
        keep: int = 2,
        **llama_options: Any,  # more keyword options of LlamaCppLLM (prefix cache, threads)
    ) -> None:
        self._default = default
        self._models_dir = models_dir
        self._context = context_window
        self._threads = threads
        self._keep = keep
        self._options = llama_options
        self._loaded: dict[str, LLM] = {}
        self._lock = threading.Lock()

    def available_files(self) -> list[str]:
        return list_gguf(self._models_dir)

    def for_choice(self, choice: ModelChoice) -> LLM:
        if choice.kind == "default":
            return self._default()
        if choice.kind == "server":
            return OpenAICompatibleLLM(
                choice.base_url, choice.model, choice.api_key, choice.context_window
            )
        path = self._models_dir / choice.file
        if not path.is_file():
            raise ModelError(
                f"The model file {choice.file} is no longer in the models folder "
                f"({self._models_dir}). Choose another model in Configure."
            )
        with self._lock:
            key = str(path)
            if key in self._loaded:
                llm = self._loaded.pop(key)
            else:
                log.info("loading model %s", path.name)
                llm = LlamaCppLLM(path, self._context, self._threads, **self._options)
            self._loaded[key] = llm  # most recent last
            while len(self._loaded) > self._keep:
                self._loaded.pop(next(iter(self._loaded)))
            return llm

    def for_assistant(self, stored: str) -> LLM:
        return self.for_choice(ModelChoice.parse(stored))
