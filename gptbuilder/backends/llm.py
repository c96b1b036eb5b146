"""Chat language models: llama.cpp on a local GGUF file, and a deterministic fake."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
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


# A message may name the leading part of its content that is the same for every request (the
# system message of one assistant: its instructions and standing rules, never the per-request
# fence tag or canary that follow). llama.cpp keeps that part evaluated between requests; other
# backends ignore the key, and the OpenAI-compatible one does not send it.
REUSABLE = "reusable"


def physical_cores() -> int:
    """CPU cores this process may use, counting a core's hyper-threads once: llama.cpp's
    matrix work gains nothing from a core's second thread and loses when one is busy."""
    try:
        allowed = os.sched_getaffinity(0)
    except AttributeError:  # not Linux
        return max(1, (os.cpu_count() or 2) // 2)
    cores: set[tuple[str, str]] = set()
    cpu = physical = core = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in [*f, "\n"]:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "processor":
                    cpu = value
                elif key == "physical id":
                    physical = value
                elif key == "core id":
                    core = value
                elif not key and cpu:
                    if cpu.isdigit() and int(cpu) in allowed:
                        cores.add((physical, core or cpu))
                    cpu = physical = core = ""
    except OSError:
        pass
    return max(1, min(len(cores) or len(allowed), len(allowed)))


@dataclass
class LlamaCall:
    """What the last answer cost: prompt tokens, how many were kept from the last request,
    and the seconds llama.cpp spent reading the rest (for the benchmarks)."""

    prompt_tokens: int = 0
    reused_tokens: int = 0
    read_s: float = 0.0


class LlamaCppLLM:
    """A GGUF model run by llama-cpp-python; the chat template comes from the GGUF itself.

    With ``prefix_cache`` the part of the prompt a message marks as ``REUSABLE`` (an
    assistant's system message up to its per-request canary) stays evaluated between
    requests, and only the rest is read. The same prompt still gets the same answer: every
    prompt is read the same way, the reusable prefix as one evaluation from an empty context
    and the rest after it, whether the prefix was evaluated now or kept from before.
    """

    # Overhead of the chat template around each message (role markers), in tokens.
    per_message_overhead = 8

    def __init__(
        self,
        model_path: Path,
        context_window: int = 4096,
        threads: int | None = None,
        *,
        batch_threads: int | None = None,
        prefix_cache: bool = True,
    ):
        if model_path is None or not Path(model_path).is_file():
            raise ModelError(
                f"The language model file {model_path} was not found. Run the setup again "
                "(make run) or set GPTB_LLM_MODEL to a .gguf file."
            )
        from llama_cpp import Llama, StoppingCriteriaList
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        # Threads: reading the prompt (batches of tokens) uses every physical core; generating
        # leaves one free. On 2 quiet cores 2 threads generate 75 tokens/s against 46 for 1,
        # but while another program kept one core busy an answer took 232 s with 2 threads
        # against 17 s with 1 (llama.cpp's threads wait for each other at every token).
        cores = physical_cores()
        try:
            self._llama = Llama(
                model_path=str(model_path),
                n_ctx=context_window,
                n_threads=threads or max(1, cores - 1),
                n_threads_batch=batch_threads or threads or cores,
                verbose=False,
            )
        except Exception as err:  # llama.cpp reports a bad file as ValueError/RuntimeError
            raise ModelError(
                f"The model file {Path(model_path).name} could not be loaded."
            ) from err
        # The runtime may cap the window to what the model was trained for.
        self.context_window = int(self._llama.n_ctx())
        self.name = Path(model_path).name
        self.prefix_cache = prefix_cache
        self.last = LlamaCall()
        self._prefix: tuple[int, ...] | None = None  # evaluated on its own, kept in the cache
        # The chat template of the GGUF, as llama-cpp-python's own chat completion uses it:
        # the prompt is rendered and tokenized here, so the reusable prefix is known in tokens.
        template = self._llama.metadata.get("tokenizer.chat_template")
        self._format = None
        if template:
            model = self._llama._model
            eos, bos = self._llama.token_eos(), self._llama.token_bos()
            self._format = Jinja2ChatFormatter(
                template=template,
                eos_token=model.token_get_text(eos) if eos != -1 else "",
                bos_token=model.token_get_text(bos) if bos != -1 else "",
                stop_token_ids=[eos],
            )
            self._stop = StoppingCriteriaList([lambda ids, _logits: int(ids[-1]) == eos])
        self._lock = threading.Lock()  # one llama.cpp context: one generation at a time
        log.info(
            "language model %s loaded (context %d tokens, %d threads, prefix cache %s)",
            self.name,
            self.context_window,
            self._llama.n_threads,
            "on" if prefix_cache else "off",
        )

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _render(self, messages: Sequence[Message]) -> list[int]:
        """The prompt's tokens, exactly as llama-cpp-python's chat completion makes them."""
        assert self._format is not None
        chat = [{"role": m["role"], "content": m["content"]} for m in messages]
        prompt = self._format(messages=chat).prompt  # type: ignore[arg-type]
        return self._llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)

    def reusable_tokens(self, messages: Sequence[Message], tokens: Sequence[int]) -> int:
        """How many leading tokens of the prompt are the first message's ``REUSABLE`` part:
        the tokens the prompt shares with the same messages whose first message ends right
        after that part, in a different way. A pure function of the prompt."""
        if not messages or not self.prefix_cache:
            return 0
        first = messages[0]
        stable, content = first.get(REUSABLE, ""), first["content"]
        if not stable or not content.startswith(stable) or len(stable) == len(content):
            return 0
        other = "[" if content[len(stable)] != "[" else "("
        twin = self._render([{"role": first["role"], "content": stable + other}, *messages[1:]])
        n = 0
        for a, b in zip(tokens, twin, strict=False):
            if a != b:
                break
            n += 1
        return n if n < len(tokens) else 0

    def _read(self, tokens: list[int], prefix: int) -> int:
        """Evaluate the prompt, keeping its first ``prefix`` tokens from the last request when
        they are the same and were evaluated on their own; returns how many were kept."""
        llama = self._llama
        if (
            prefix
            and self._prefix == tuple(tokens[:prefix])
            and llama.n_tokens >= prefix
            and list(llama._input_ids[:prefix]) == tokens[:prefix]
        ):
            llama.n_tokens = prefix  # eval() drops the rest of the last request from the cache
            llama.eval(tokens[prefix:])
            return prefix
        # The same prompt gets the same answer: llama.cpp would otherwise reuse whatever part
        # of the last prompt matches this one and evaluate only the rest, in other batches,
        # whose different rounding can change a greedy answer. So a prompt is read either
        # whole, or as its reusable prefix alone and then the rest, never otherwise.
        llama.reset()
        self._prefix = tuple(tokens[:prefix]) if prefix else None
        if prefix:
            llama.eval(tokens[:prefix])
        llama.eval(tokens[llama.n_tokens :])
        return 0

    def stream_chat(
        self, messages: Sequence[Message], temperature: float, max_tokens: int
    ) -> Iterator[str]:
        with self._lock:
            if self._format is None:  # no template in the GGUF: llama-cpp-python's fallback
                self._llama.reset()
                self._prefix = None
                self.last = LlamaCall()
                yield from self._chat_completion(messages, temperature, max_tokens)
                return
            tokens = self._render(messages)
            if len(tokens) >= self.context_window:
                raise ModelError("The question and its sources are too long for the model.")
            t0 = time.perf_counter()
            kept = self._read(tokens, self.reusable_tokens(messages, tokens))
            self.last = LlamaCall(len(tokens), kept, time.perf_counter() - t0)
            # The whole prompt is now evaluated: the completion samples from it at once.
            stream = self._llama.create_completion(
                prompt=tokens,
                temperature=temperature,
                max_tokens=max_tokens,
                repeat_penalty=1.15,
                stop=[self._format.eos_token],
                stopping_criteria=self._stop,
                stream=True,
            )
            for part in stream:
                piece = part["choices"][0]["text"]  # type: ignore[index]
                if isinstance(piece, str) and piece:
                    yield piece

    def _chat_completion(
        self, messages: Sequence[Message], temperature: float, max_tokens: int
    ) -> Iterator[str]:
        stream = self._llama.create_chat_completion(
            messages=[{"role": m["role"], "content": m["content"]} for m in messages],  # type: ignore[misc]
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
