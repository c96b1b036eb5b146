"""The Chat tab's handlers: a question answered as it is written, or a summary, list or
comparison with its progress and the points found so far; Stop; the Knowledge tab's
Summarise button (which runs in the chat); the conversation shown and cleared. Plain methods
over the ``Chat`` and ``Knowledge`` use cases, returning what they fill by name."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import gradio as gr

from gptbuilder.errors import GPTBuilderError
from gptbuilder.ui.render import (
    escape_untrusted,
    notice,
    render_answer,
    render_answer_text,
    render_task_progress,
    understood_as,
)
from gptbuilder.ui.saved import render_saved, render_shown
from gptbuilder.usecases import Chat, Knowledge, Question, Step

log = logging.getLogger(__name__)

UIMessage = dict[str, Any]  # {"role": ..., "content": ...} as gr.Chatbot shows them
Named = dict[str, Any]  # component name -> value (or gr.update(...))

CHAT = ("chatbot", "question", "turn_id", "stop_answer")


class ChatHandlers:
    def __init__(self, conversations: Chat, knowledge: Knowledge, links: tuple[str, ...]) -> None:
        self.conversations = conversations
        self.knowledge = knowledge
        self.links = links  # hosts answers may link to

    def history(self, assistant_id: int) -> list[UIMessage]:
        out: list[UIMessage] = []
        for item in self.conversations.history(assistant_id):
            if isinstance(item, Question):
                out.append({"role": "user", "content": escape_untrusted(item.text)})
            else:
                out.append({"role": "assistant", "content": render_saved(item, self.links)})
        return out

    def chat(
        self,
        assistant_id: int | None,
        question: str,
        history: list[UIMessage] | None,
        kind: str | None = None,
        documents: list[int] | None = None,
    ) -> Iterator[tuple[list[UIMessage], str]]:
        """Stream an answer. Yields (chat messages, question box value); see ``ask``."""
        for named in self.ask(assistant_id, question, history, kind, documents):
            yield named["chatbot"], named["question"]

    def ask(
        self,
        assistant_id: int | None,
        question: str,
        history: list[UIMessage] | None,
        kind: str | None = None,
        documents: list[int] | None = None,
    ) -> Iterator[Named]:
        """Stream an answer: a question's answer as the model writes it, or a summary, list
        or comparison with its progress and the points found so far. ``kind`` ("auto" or
        None: from the words) and ``documents`` (none: all) are the choice next to the chat
        box. Yields CHAT: chatbot, question box, the turn's id and the Stop button."""
        before: list[UIMessage] = list(history or [])
        question = (question or "").strip()
        idle = {"turn_id": None, "stop_answer": gr.update(visible=False)}
        if not question:
            yield {"chatbot": before, "question": "", **idle}
            return
        shown_q = {"role": "user", "content": escape_untrusted(question)}

        def reply(content: str, box: str = "") -> Named:
            return {
                "chatbot": [*before, shown_q, {"role": "assistant", "content": content}],
                "question": box,
                **idle,
            }

        if assistant_id is None:
            yield reply(notice("Create or choose an assistant first.", "error"))
            return
        chosen_kind = None if kind in (None, "", "auto") else kind
        try:
            turn = self.conversations.ask(
                int(assistant_id), question, chosen_kind, [int(d) for d in documents or []]
            )
        except GPTBuilderError as err:
            yield reply(notice(str(err), "error"))
            return
        history = [*before, shown_q, {"role": "assistant", "content": "…"}]
        running = {
            "turn_id": turn.id,
            "stop_answer": gr.update(visible=True, value="Stop", interactive=True),
        }
        # Leaving the block without an answer (an error, or the browser went away) keeps the
        # stored conversation a clean question/answer sequence.
        with turn:
            try:
                if turn.understood:
                    history[-1] = {"role": "assistant", "content": understood_as(turn.understood)}
                yield {"chatbot": history, "question": "", **running}
                answer: Step | None = None
                for step in turn.steps():
                    if step.answer is not None:
                        answer = step
                        continue
                    history[-1] = {"role": "assistant", "content": self._partial(step)}
                    yield {"chatbot": history, "question": "", **running}
                assert answer is not None and answer.answer is not None
                shown = render_shown(answer.answer, answer.task, self.links)
                history[-1] = {"role": "assistant", "content": shown}
                yield {"chatbot": history, "question": "", **idle}
            except GPTBuilderError as err:
                history[-1] = {"role": "assistant", "content": notice(str(err), "error")}
                yield {"chatbot": history, "question": question, **idle}
            except Exception:
                log.exception("chat failed")
                msg = notice("Something went wrong while answering. Please try again.", "error")
                history[-1] = {"role": "assistant", "content": msg}
                yield {"chatbot": history, "question": question, **idle}

    def _partial(self, step: Step) -> str:
        """An answer being written, as Markdown."""
        if step.kind != "fact":
            points = [(p.text, p.filename, p.page) for p in step.points]
            return render_task_progress(
                step.kind, step.progress, step.eta_s, step.fraction, points, step.understood
            )
        if step.preview is not None:  # only what has been checked
            return render_answer(step.preview, self.links, checking=True)
        return render_answer_text(step.text, self.links)

    def stop_answer(self, turn_id: str | None) -> Any:
        """The Stop button: the running answer ends; a summary, list or comparison is finished
        from what was read. Returns the button's update: it says "Stopping…" until the answer
        ends and hides it (then the answer itself says it was stopped)."""
        if not self.conversations.stop(turn_id or ""):
            return gr.update()
        return gr.update(value="Stopping…", interactive=False)

    def summarise_document(
        self,
        assistant_id: int | None,
        document_id: int | None,
        history: list[UIMessage] | None,
    ) -> Iterator[Named]:
        """The Knowledge tab's Summarise button: the chosen document is summarised in the
        chat, which is shown. Yields CHAT, notice, tabs and active_tab."""
        if assistant_id is None or document_id is None:
            yield {"notice": notice("Choose a document to summarise.", "error")}
            return
        doc = next(
            (d for d in self.knowledge.documents(int(assistant_id)) if d.id == int(document_id)),
            None,
        )
        if doc is None or doc.status != "ready":
            yield {"notice": notice("That document is not ready to read yet.", "error")}
            return
        to_chat = {"tabs": gr.Tabs(selected="chat"), "active_tab": "chat", "notice": ""}
        request = f"Summarise “{doc.filename}”"
        for i, named in enumerate(self.ask(assistant_id, request, history, "summary", [doc.id])):
            yield {**named, **to_chat} if i == 0 else named

    def clear_chat(self, assistant_id: int | None) -> list[UIMessage]:
        if assistant_id is not None:
            self.conversations.clear(int(assistant_id))
        return []
