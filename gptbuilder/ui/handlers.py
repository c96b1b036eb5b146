"""Event handlers: plain methods over the use cases (``gptbuilder.usecases``), called by the
Gradio layout and by tests.

A handler that fills several components returns them by name, as a dict (see the name
lists below); the layout maps each name to its component. A name left out means "leave
that component as it is". Per-browser state (the chosen assistant) comes in as an argument
and goes out as a return value; nothing per-user is kept on this object.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from gptbuilder.backends.models import ModelChoice
from gptbuilder.errors import GPTBuilderError
from gptbuilder.personas.definition import MAX_STARTERS
from gptbuilder.services import Services
from gptbuilder.types import Assistant, Document
from gptbuilder.ui import flagged, uploads
from gptbuilder.ui.chat import ChatHandlers
from gptbuilder.ui.render import (
    counted,
    documents_table,
    escape_untrusted,
    notice,
)
from gptbuilder.ui.sharing import ShareHandlers
from gptbuilder.usecases import AssistantForm
from gptbuilder.usecases.knowledge import UploadJob

log = logging.getLogger(__name__)

Named = dict[str, Any]  # component name -> value (or gr.update(...))

# The names of the components handlers fill, in the order the layout lists them.
STARTER_BOXES = tuple(f"starter_{i + 1}" for i in range(MAX_STARTERS))  # Configure
STARTER_BUTTONS = tuple(f"starter_button_{i + 1}" for i in range(MAX_STARTERS))  # Chat
CONFIG = ("name", "description", "instructions", *STARTER_BOXES, "temperature")
MODEL_CONFIG = ("model_pick", "server_url", "server_model", "server_key", "server_context")
SCREEN = (  # everything shown for one assistant
    "current",
    "title",
    "chatbot",
    *CONFIG,
    *STARTER_BUTTONS,
    "documents",
    "document_pick",
    "scope_documents",
    *MODEL_CONFIG,
    "answer_style",
    "notice",
)
FLAG_VIEW = ("flag_summary", "flags", "flag_pick")
DOCUMENTS = ("documents", "document_pick", "scope_documents")  # wherever documents are listed
UPLOAD = (*DOCUMENTS, "report", "upload", "upload_job", "cancel_upload")
# A question being answered: the conversation, the question box, the running turn's id (for
# its Stop button) and the Stop button.
# The kind of answer asked for, next to the chat box: "auto" recognises it from the words.
KIND_CHOICES = [
    ("Automatic", "auto"),
    ("Answer a question", "fact"),
    ("Summary", "summary"),
    ("List every …", "list"),
    ("Compare two documents", "compare"),
]
SAVED = ("current", "picker", "notice")  # after saving or deleting an assistant
NEW_ASSISTANT = ("current", "picker", *CONFIG, *MODEL_CONFIG, "answer_style", "notice")


def model_choice(
    pick: str | None, url: str, model: str, key: str, context: float | None
) -> ModelChoice:
    """The model picker's value (and the server fields) as a checked ``ModelChoice``."""
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
        self.assistants = services.assistants
        self.knowledge = services.knowledge
        self.conversations = services.chat
        self.links = services.settings.allowed_link_hosts  # hosts answers may link to
        self.sharing = ShareHandlers(services.sharing, self.picker_update)
        self.export = self.sharing.export
        self.export_bundle = self.sharing.export_bundle
        self.import_file = self.sharing.import_file
        self.talk = ChatHandlers(self.conversations, self.knowledge, self.links)
        self.chat_history = self.talk.history
        self.chat = self.talk.chat
        self.ask = self.talk.ask
        self.stop_answer = self.talk.stop_answer
        self.summarise_document = self.talk.summarise_document
        self.clear_chat = self.talk.clear_chat

    # -- assistants ----------------------------------------------------------------------------

    def assistant_choices(self) -> list[tuple[str, int]]:
        return [(a.name, a.id) for a in self.assistants.list_all()]

    def picker_update(self, selected: int | None) -> dict:
        choices = self.assistant_choices()
        ids = {i for _, i in choices}
        return gr.update(choices=choices, value=selected if selected in ids else None)

    def config_values(self, a: Assistant | None) -> Named:
        """Name, description, instructions, starters, temperature."""
        if a is None:
            return {**dict.fromkeys(CONFIG, ""), "temperature": 0.2}
        starters = list(a.starters) + [""] * (MAX_STARTERS - len(a.starters))
        return {
            "name": a.name,
            "description": a.description,
            "instructions": a.instructions,
            **dict(zip(STARTER_BOXES, starters, strict=True)),
            "temperature": a.temperature,
        }

    def model_values(self, a: Assistant | None) -> Named:
        """The model picker, server address, server model, API key, context window."""
        options = self.assistants.model_options(a)
        m = options.choice
        files = options.files
        choices = [(f"Built in: {options.default_name}", "default")]
        choices += [(f"Models folder: {f}", f"gguf:{f}") for f in files]
        choices.append(("An OpenAI-compatible server (llama.cpp, Ollama, vLLM)…", "server"))
        value = {"default": "default", "server": "server"}.get(m.kind, f"gguf:{m.file}")
        if m.kind == "gguf" and m.file not in files:
            choices.insert(1, (f"Models folder: {m.file} (missing)", value))
        return {
            "model_pick": gr.update(choices=choices, value=value),
            "server_url": m.base_url,
            "server_model": m.model,
            "server_key": m.api_key,
            "server_context": m.context_window,
        }

    def starter_updates(self, a: Assistant | None) -> Named:
        starters = list(a.starters) if a else []
        return {
            name: gr.update(value=starters[i], visible=True)
            if i < len(starters)
            else gr.update(value="", visible=False)
            for i, name in enumerate(STARTER_BUTTONS)
        }

    def title(self, a: Assistant | None) -> str:
        if a is None:
            return "### No assistant chosen\nCreate one with **New assistant**, or pick one."
        desc = f"\n{escape_untrusted(a.description)}" if a.description else ""
        docs = counted(self.knowledge.ready_count(a.id), "document")
        return f"### {escape_untrusted(a.name)}{desc}\n\n_{docs} in its knowledge._"

    def _find(self, assistant_id: int | None) -> Assistant | None:
        if assistant_id is None:
            return None
        try:
            return self.assistants.get(int(assistant_id))
        except GPTBuilderError:
            return None

    def title_of(self, assistant_id: int | None) -> str:
        return self.title(self._find(assistant_id))

    def open_assistant(self, assistant_id: int | None) -> Named:
        """Everything the screen shows for one assistant (or none): every name in SCREEN."""
        a = self._find(assistant_id)
        docs = self.knowledge.documents(a.id) if a else []
        return {
            "current": a.id if a else None,
            "title": self.title(a),
            "chatbot": self.chat_history(a.id) if a else [],
            **self.config_values(a),
            **self.starter_updates(a),
            **self._document_lists(docs),
            **self.model_values(a),
            "answer_style": a.answer_style if a else "quote_first",
            "notice": "",
        }

    def new_assistant(self) -> Named:
        """An empty form, nothing chosen: every name in NEW_ASSISTANT."""
        return {
            "current": None,
            "picker": gr.update(value=None),
            **self.config_values(None),
            **self.model_values(None),
            "answer_style": "quote_first",
            "notice": notice("Fill in the form and press Save."),
        }

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
    ) -> Named:
        """Returns SAVED: current, picker, notice."""
        try:
            form = AssistantForm(
                name,
                description,
                instructions,
                (s1, s2, s3, s4),
                temperature,
                model_choice(model_pick, server_url, server_model, server_key, server_context),
                answer_style or "quote_first",
            )
            if assistant_id is None:
                a = self.assistants.create(form)
                msg = f"Created “{a.name}”. Now add documents in the Knowledge tab."
            else:
                a = self.assistants.update(int(assistant_id), form)
                msg = f"Saved “{a.name}”."
        except GPTBuilderError as err:
            return {
                "current": assistant_id,
                "picker": self.picker_update(assistant_id),
                "notice": notice(str(err), "error"),
            }
        return {"current": a.id, "picker": self.picker_update(a.id), "notice": notice(msg, "ok")}

    def delete_assistant(self, assistant_id: int | None) -> Named:
        """Returns SAVED: current, picker, notice."""
        if assistant_id is None:
            note = notice("No assistant is chosen.", "error")
        else:
            try:
                name = self.assistants.delete(int(assistant_id)).name
                # Names may come from an imported file: escaped.
                note = notice(f"Deleted “{escape_untrusted(name)}”.", "ok")
            except GPTBuilderError as err:
                note = notice(str(err), "error")
        return {"current": None, "picker": self.picker_update(None), "notice": note}

    # -- knowledge -----------------------------------------------------------------------------

    def _documents(self, assistant_id: int) -> Named:
        return self._document_lists(self.knowledge.documents(assistant_id))

    @staticmethod
    def _document_lists(docs: list[Document]) -> Named:
        """DOCUMENTS: the table, the Knowledge tab's picker, and the chat's choice of which
        documents to read (ready ones only; none chosen: all)."""
        ready = [(d.filename, d.id) for d in docs if d.status == "ready"]
        return {
            "documents": documents_table(docs),
            "document_pick": gr.update(choices=[(d.filename, d.id) for d in docs], value=None),
            "scope_documents": gr.update(choices=ready, value=[]),
        }

    def upload(
        self, assistant_id: int | None, files: list[str] | None, progress: Any = None
    ) -> Iterator[Named]:
        """Add uploaded files one by one, reporting as it goes. Yields names of UPLOAD:
        report, documents, document picker, upload box, job id, cancel button."""
        done = {"upload": None, "upload_job": None, "cancel_upload": gr.update(visible=False)}
        if assistant_id is None:
            report = notice("Create or choose an assistant before adding documents.", "error")
            yield {"report": report, **done}
            return
        paths = [Path(f if isinstance(f, str) else f.name) for f in (files or [])]
        if not paths:
            yield {"report": notice("No file was chosen."), **done}
            return
        job: UploadJob = self.knowledge.upload(int(assistant_id), paths)
        try:
            while not job.wait(0.5):
                if progress is not None:
                    progress(job.overall()[0], desc=uploads.describe(job))
                yield {
                    "report": uploads.report(job),
                    "upload_job": job.id,
                    "cancel_upload": gr.update(visible=True),
                }
        finally:
            # If the page goes away the files still finish in the background.
            self.knowledge.forget_upload(job.id)
        yield {"report": uploads.report(job), **self._documents(int(assistant_id)), **done}

    def flag_view(self, assistant_id: int | None) -> Named:
        """Returns FLAG_VIEW: flag summary, flags table, passage picker."""
        flags = self.knowledge.flags(int(assistant_id)) if assistant_id is not None else []
        return {
            "flag_summary": flagged.summary(flags) if assistant_id is not None else "",
            "flags": flagged.flags_table(flags),
            "flag_pick": gr.update(choices=flagged.passage_choices(flags), value=[]),
        }

    def set_flagged(
        self, assistant_id: int | None, chunk_ids: list[int] | None, excluded: bool
    ) -> Named:
        """Exclude chosen flagged passages from answers, or keep them as data.

        Returns: notice and FLAG_VIEW.
        """
        if assistant_id is None or not chunk_ids:
            return {
                "notice": notice("Tick the flagged passages first.", "error"),
                **self.flag_view(assistant_id),
            }
        changed = self.knowledge.set_flagged(int(assistant_id), chunk_ids, excluded)
        what = "excluded from answers" if excluded else "kept as data"
        note = notice(f"{changed} passage{'s' if changed != 1 else ''} {what}.", "ok")
        return {"notice": note, **self.flag_view(assistant_id)}

    def cancel_upload(self, job_id: str | None) -> str:
        if not self.knowledge.cancel_upload(job_id or ""):
            return ""
        return notice("Stopping: the file in progress is undone, the rest are skipped.")

    def remove_document(self, assistant_id: int | None, document_id: int | None) -> Named:
        """Returns: notice and DOCUMENTS."""
        if assistant_id is None or document_id is None:
            return {"notice": notice("Choose a document to remove.", "error")}
        try:
            name = self.knowledge.remove_document(int(document_id)).filename
            msg = notice(f"Removed “{escape_untrusted(name)}”.", "ok")
        except GPTBuilderError as err:
            msg = notice(str(err), "error")
        return {"notice": msg, **self._documents(int(assistant_id))}
