"""Event handlers: plain methods over the services, called by the Gradio layout and by tests.

Per-browser state (the chosen assistant) comes in as an argument and goes out as a return
value; nothing per-user is kept on this object.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from gptbuilder.backends.models import ModelChoice
from gptbuilder.errors import GPTBuilderError
from gptbuilder.personas.definition import MAX_STARTERS, make_draft
from gptbuilder.services import Services
from gptbuilder.types import Assistant, ChatMessage
from gptbuilder.ui import flagged
from gptbuilder.ui.render import (
    documents_table,
    escape_untrusted,
    notice,
    render_answer,
    render_answer_text,
)
from gptbuilder.ui.saved import (
    answer_text_for_history,
    citations_to_json,
    render_stored_answer,
)
from gptbuilder.ui.sharing import Sharing
from gptbuilder.ui.uploads import UploadJob

log = logging.getLogger(__name__)

UIMessage = dict[str, Any]  # {"role": ..., "content": ...} as gr.Chatbot shows them


def model_choice(
    pick: str | None, url: str, model: str, key: str, context: float | None
) -> ModelChoice:
    pick = pick or "default"
    if pick == "server":
        return ModelChoice(
            "server",
            base_url=(url or "").strip(),
            model=(model or "").strip(),
            api_key=(key or "").strip(),
            context_window=int(context or 4096),
        ).validated()
    if pick.startswith("gguf:"):
        return ModelChoice("gguf", file=pick.removeprefix("gguf:")).validated()
    return ModelChoice()


class Handlers:
    def __init__(self, services: Services) -> None:
        self.s = services
        self._jobs: dict[str, UploadJob] = {}  # running uploads by id, for their cancel button
        self.links = services.settings.allowed_link_hosts  # hosts answers may link to
        self.sharing = Sharing(services, self.picker_update)
        self.export = self.sharing.export
        self.export_bundle = self.sharing.export_bundle
        self.import_file = self.sharing.import_file

    # -- assistants ----------------------------------------------------------------------------

    def assistant_choices(self) -> list[tuple[str, int]]:
        return [(a.name, a.id) for a in self.s.repo.list_assistants()]

    def picker_update(self, selected: int | None) -> dict:
        choices = self.assistant_choices()
        ids = {i for _, i in choices}
        return gr.update(choices=choices, value=selected if selected in ids else None)

    def config_values(self, a: Assistant | None) -> list[Any]:
        """name, description, instructions, starter 1..4, temperature."""
        if a is None:
            return ["", "", "", *[""] * MAX_STARTERS, 0.2]
        starters = list(a.starters) + [""] * (MAX_STARTERS - len(a.starters))
        return [a.name, a.description, a.instructions, *starters, a.temperature]

    def model_values(self, a: Assistant | None) -> list[Any]:
        """model picker, server address, server model, API key, context window."""
        default_name = Path(str(self.s.settings.llm_model)).name
        files = self.s.models.available_files()
        choices = [(f"Built in: {default_name}", "default")]
        choices += [(f"Models folder: {f}", f"gguf:{f}") for f in files]
        choices.append(("An OpenAI-compatible server (llama.cpp, Ollama, vLLM)…", "server"))
        try:
            m = ModelChoice.parse(a.model) if a else ModelChoice()
        except GPTBuilderError:
            m = ModelChoice()
        value = {"default": "default", "server": "server"}.get(m.kind, f"gguf:{m.file}")
        if m.kind == "gguf" and m.file not in files:
            choices.insert(1, (f"Models folder: {m.file} (missing)", value))
        return [
            gr.update(choices=choices, value=value),
            m.base_url,
            m.model,
            m.api_key,
            m.context_window,
        ]

    def chat_history(self, assistant_id: int) -> list[UIMessage]:
        out: list[UIMessage] = []
        for m in self.s.repo.list_messages(assistant_id):
            if m.role == "user":
                out.append({"role": "user", "content": escape_untrusted(m.content)})
            else:
                content = render_stored_answer(m.content, m.citations, self.links)
                out.append({"role": "assistant", "content": content})
        return out

    def starter_updates(self, a: Assistant | None) -> list[dict]:
        starters = list(a.starters) if a else []
        return [
            gr.update(value=starters[i], visible=True)
            if i < len(starters)
            else gr.update(value="", visible=False)
            for i in range(MAX_STARTERS)
        ]

    def title(self, a: Assistant | None) -> str:
        if a is None:
            return "### No assistant chosen\nCreate one with **New assistant**, or pick one."
        desc = f"\n{escape_untrusted(a.description)}" if a.description else ""
        ndocs = sum(d.status == "ready" for d in self.s.repo.list_documents(a.id))
        return f"### {escape_untrusted(a.name)}{desc}\n\n_{ndocs} document(s) in its knowledge._"

    def open_assistant(self, assistant_id: int | None) -> list[Any]:
        """Everything the screen shows for one assistant (or none).

        Returns: state, title, chatbot, config x8, starter buttons x4, docs table,
        document picker, model settings x5, answer style, notice.
        """
        a = None
        if assistant_id is not None:
            try:
                a = self.s.repo.get_assistant(int(assistant_id))
            except GPTBuilderError:
                a = None
        docs = self.s.repo.list_documents(a.id) if a else []
        return [
            a.id if a else None,
            self.title(a),
            self.chat_history(a.id) if a else [],
            *self.config_values(a),
            *self.starter_updates(a),
            documents_table(docs),
            gr.update(choices=[(d.filename, d.id) for d in docs], value=None),
            *self.model_values(a),
            a.answer_style if a else "quote_first",
            "",
        ]

    def new_assistant(self) -> list[Any]:
        return [None, *self.config_values(None), notice("Fill in the form and press Save.")]

    def save_assistant(
        self,
        assistant_id: int | None,
        name: str,
        description: str,
        instructions: str,
        s1: str,
        s2: str,
        s3: str,
        s4: str,
        temperature: float,
        model_pick: str | None = "default",
        server_url: str = "",
        server_model: str = "",
        server_key: str = "",
        server_context: float | None = 4096,
        answer_style: str | None = "quote_first",
    ) -> list[Any]:
        """Returns: state, picker, notice."""
        try:
            choice = model_choice(model_pick, server_url, server_model, server_key, server_context)
            draft = make_draft(
                name,
                description,
                instructions,
                [s1, s2, s3, s4],
                temperature,
                choice.dumps(),
                answer_style or "quote_first",
            )
            if assistant_id is None:
                a = self.s.repo.create_assistant(draft)
                msg = f"Created “{a.name}”. Now add documents in the Knowledge tab."
            else:
                a = self.s.repo.update_assistant(int(assistant_id), draft)
                msg = f"Saved “{a.name}”."
        except GPTBuilderError as err:
            return [assistant_id, self.picker_update(assistant_id), notice(str(err), "error")]
        return [a.id, self.picker_update(a.id), notice(msg, "ok")]

    def delete_assistant(self, assistant_id: int | None) -> list[Any]:
        """Returns: state, picker, notice."""
        if assistant_id is None:
            return [None, self.picker_update(None), notice("No assistant is chosen.", "error")]
        try:
            name = self.s.repo.get_assistant(int(assistant_id)).name
            self.s.library.delete_assistant(int(assistant_id))
        except GPTBuilderError as err:
            return [None, self.picker_update(None), notice(str(err), "error")]
        msg = notice(f"Deleted “{escape_untrusted(name)}”.", "ok")  # names may come from a file
        return [None, self.picker_update(None), msg]

    # -- knowledge -----------------------------------------------------------------------------

    def upload(
        self, assistant_id: int | None, files: list[str] | None, progress: Any = None
    ) -> Iterator[list[Any]]:
        """Add uploaded files one by one, reporting as it goes.

        Yields: report, docs table, doc picker, upload box, job id, cancel button.
        """
        if assistant_id is None:
            report = notice("Create or choose an assistant before adding documents.", "error")
            yield [report, gr.update(), gr.update(), None, None, gr.update(visible=False)]
            return
        paths = [Path(f if isinstance(f, str) else f.name) for f in (files or [])]
        if not paths:
            yield [
                notice("No file was chosen."),
                gr.update(),
                gr.update(),
                None,
                None,
                gr.update(visible=False),
            ]
            return
        job = UploadJob(self.s.library, int(assistant_id), paths)
        job_id = uuid.uuid4().hex
        self._jobs[job_id] = job
        job.start()
        try:
            while not job.wait(0.5):
                if progress is not None:
                    progress(job.overall()[0], desc=job.describe())
                yield [
                    job.report(),
                    gr.update(),
                    gr.update(),
                    gr.update(),
                    job_id,
                    gr.update(visible=True),
                ]
        finally:
            # If the page goes away the files still finish in the background.
            self._jobs.pop(job_id, None)
        docs = self.s.repo.list_documents(int(assistant_id))
        yield [
            job.report(),
            documents_table(docs),
            gr.update(choices=[(d.filename, d.id) for d in docs], value=None),
            None,
            None,
            gr.update(visible=False),
        ]

    def flag_view(self, assistant_id: int | None) -> list[Any]:
        """Returns: flag summary, flags table, passage picker."""
        flags = self.s.repo.flags.list_flags(int(assistant_id)) if assistant_id is not None else []
        return [
            flagged.summary(flags) if assistant_id is not None else "",
            flagged.flags_table(flags),
            gr.update(choices=flagged.passage_choices(flags), value=[]),
        ]

    def set_flagged(
        self, assistant_id: int | None, chunk_ids: list[int] | None, excluded: bool
    ) -> list[Any]:
        """Exclude chosen flagged passages from answers, or keep them as data.

        Returns: notice, flag summary, flags table, passage picker.
        """
        if assistant_id is None or not chunk_ids:
            return [
                notice("Tick the flagged passages first.", "error"),
                *self.flag_view(assistant_id),
            ]
        allowed = {f.chunk_id for f in self.s.repo.flags.list_flags(int(assistant_id))}
        ids = [int(c) for c in chunk_ids if int(c) in allowed]  # only this assistant's flags
        changed = self.s.library.set_excluded(ids, excluded)
        what = "excluded from answers" if excluded else "kept as data"
        note = notice(f"{changed} passage{'s' if changed != 1 else ''} {what}.", "ok")
        return [note, *self.flag_view(assistant_id)]

    def cancel_upload(self, job_id: str | None) -> str:
        job = self._jobs.get(job_id or "")
        if job is None:
            return ""
        job.cancel.set()
        return notice("Stopping: the file in progress is undone, the rest are skipped.")

    def remove_document(self, assistant_id: int | None, document_id: int | None) -> list[Any]:
        """Returns: notice, docs table, doc picker."""
        if assistant_id is None or document_id is None:
            return [notice("Choose a document to remove.", "error"), gr.update(), gr.update()]
        try:
            name = self.s.repo.get_document(int(document_id)).filename
            self.s.library.remove_document(int(document_id))
            msg = notice(f"Removed “{escape_untrusted(name)}”.", "ok")
        except GPTBuilderError as err:
            msg = notice(str(err), "error")
        docs = self.s.repo.list_documents(int(assistant_id))
        return [
            msg,
            documents_table(docs),
            gr.update(choices=[(d.filename, d.id) for d in docs], value=None),
        ]

    # -- chat ----------------------------------------------------------------------------------

    def chat(
        self, assistant_id: int | None, question: str, history: list[UIMessage] | None
    ) -> Iterator[tuple[list[UIMessage], str]]:
        """Stream an answer. Yields (chat messages, question box value)."""
        history = list(history or [])
        question = (question or "").strip()
        if not question:
            yield history, ""
            return
        shown_q = {"role": "user", "content": escape_untrusted(question)}
        if assistant_id is None:
            reply = notice("Create or choose an assistant first.", "error")
            yield [*history, shown_q, {"role": "assistant", "content": reply}], ""
            return
        try:
            a = self.s.repo.get_assistant(int(assistant_id))
        except GPTBuilderError as err:
            yield (
                [*history, shown_q, {"role": "assistant", "content": notice(str(err), "error")}],
                "",
            )
            return
        past = self.s.repo.list_messages(a.id)
        # Saved first, so a question is never lost, even if the browser goes away mid-answer.
        self.s.repo.add_message(a.id, ChatMessage("user", question))
        history = [*history, shown_q, {"role": "assistant", "content": "…"}]
        saved = False
        try:
            yield history, ""
            answer = None
            for partial in self.s.answers.stream(a, question, past):
                if partial.answer is not None:
                    answer = partial.answer
                    continue
                if partial.preview is not None:  # only what has been checked
                    shown = render_answer(partial.preview, self.links, checking=True)
                else:
                    shown = render_answer_text(partial.text, self.links)
                history[-1] = {"role": "assistant", "content": shown}
                yield history, ""
            assert answer is not None
            self.s.repo.add_message(
                a.id,
                ChatMessage(
                    "assistant",
                    answer_text_for_history(answer),
                    tuple(citations_to_json(answer)),
                ),
            )
            saved = True
            history[-1] = {"role": "assistant", "content": render_answer(answer, self.links)}
            yield history, ""
        except GPTBuilderError as err:
            history[-1] = {"role": "assistant", "content": notice(str(err), "error")}
            yield history, question
        except Exception:
            log.exception("chat failed")
            reply = notice("Something went wrong while answering. Please try again.", "error")
            history[-1] = {"role": "assistant", "content": reply}
            yield history, question
        finally:
            if not saved:  # keep the stored conversation a clean question/answer sequence
                self.s.repo.add_message(a.id, ChatMessage("assistant", "(No answer was given.)"))

    def clear_chat(self, assistant_id: int | None) -> list[UIMessage]:
        if assistant_id is not None:
            self.s.repo.clear_messages(int(assistant_id))
        return []
