"""Gradio layout: components and wiring only; the logic lives in ``handlers``."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

from gptbuilder.personas.definition import MAX_STARTERS
from gptbuilder.services import Services
from gptbuilder.ui import flagged
from gptbuilder.ui.handlers import Handlers

log = logging.getLogger(__name__)

CSS = """
.gptb-notice p { margin: 0.2em 0; }
.gptb-title h3 { margin-bottom: 0.1em; }
"""


def build_app(services: Services) -> Any:
    """The whole UI as a ``gr.Blocks``. Nothing is launched."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    h = Handlers(services)

    with gr.Blocks(title="GPT Builder", analytics_enabled=False) as app:
        current = gr.State(None)  # id of the assistant this browser tab works on
        upload_job = gr.State(None)  # id of this tab's running upload, for its cancel button

        with gr.Row():
            with gr.Column(scale=1, min_width=220):
                gr.Markdown("## GPT Builder\nPrivate assistants that answer from your documents.")
                picker = gr.Radio(
                    label="Your assistants", choices=h.assistant_choices(), elem_id="picker"
                )
                new_btn = gr.Button("＋ New assistant", variant="primary", elem_id="new-assistant")
            with gr.Column(scale=4):
                status = gr.Markdown(elem_classes="gptb-notice", elem_id="notice")
                with gr.Tabs(selected="chat") as tabs:
                    with gr.Tab("Chat", id="chat"):
                        title = gr.Markdown(h.title(None), elem_classes="gptb-title")
                        chatbot = gr.Chatbot(
                            label="Conversation",
                            height=480,
                            sanitize_html=True,
                            render_markdown=True,
                            latex_delimiters=[],
                            buttons=["copy", "copy_all"],
                            feedback_options=None,
                            elem_id="chatbot",
                        )
                        with gr.Row():
                            starters = [
                                gr.Button(visible=False, size="sm", elem_id=f"starter-{i}")
                                for i in range(MAX_STARTERS)
                            ]
                        with gr.Row():
                            question = gr.Textbox(
                                placeholder="Ask a question about the documents…",
                                show_label=False,
                                scale=6,
                                elem_id="question",
                            )
                            send = gr.Button("Send", variant="primary", scale=1, elem_id="send")
                        clear = gr.Button("Clear conversation", size="sm")
                    with gr.Tab("Configure", id="configure"):
                        name = gr.Textbox(label="Name", max_length=80, elem_id="name")
                        description = gr.Textbox(label="Description", lines=2, max_length=500)
                        instructions = gr.Textbox(
                            label="Instructions",
                            lines=6,
                            placeholder="How should the assistant behave? e.g. 'Answer in "
                            "plain English for new employees.'",
                        )
                        with gr.Row():
                            starter_boxes = [
                                gr.Textbox(label=f"Conversation starter {i + 1}", max_length=200)
                                for i in range(MAX_STARTERS)
                            ]
                        temperature = gr.Slider(
                            0.0,
                            1.5,
                            value=0.2,
                            step=0.05,
                            label="Temperature",
                            info="Low: sticks to the words of the documents. High: more varied.",
                        )
                        model_pick = gr.Dropdown(
                            label="Language model",
                            info="Put more .gguf files in the models folder "
                            f"({services.settings.models_dir}) to choose them here.",
                            choices=[],
                            elem_id="model-pick",
                        )
                        with gr.Group(visible=False) as server_group:
                            server_url = gr.Textbox(
                                label="Server address",
                                placeholder="http://127.0.0.1:8080/v1",
                                elem_id="server-url",
                            )
                            with gr.Row():
                                server_model = gr.Textbox(
                                    label="Model name",
                                    placeholder="e.g. llama3.2",
                                    elem_id="server-model",
                                )
                                server_key = gr.Textbox(
                                    label="API key (if the server needs one)", type="password"
                                )
                                server_ctx = gr.Number(
                                    label="Context window (tokens)", value=4096, precision=0
                                )
                        with gr.Row():
                            save = gr.Button("Save", variant="primary", elem_id="save")
                            delete = gr.Button("Delete assistant…", variant="stop")
                        with gr.Row(visible=False) as confirm_row:
                            gr.Markdown(
                                "**Delete this assistant?** Its documents and conversation "
                                "are removed too. This cannot be undone."
                            )
                            confirm = gr.Button("Yes, delete it", variant="stop")
                            cancel = gr.Button("Keep it")
                    with gr.Tab("Knowledge", id="knowledge"):
                        upload = gr.File(
                            label="Add documents (PDF, TXT, Markdown)",
                            file_count="multiple",
                            file_types=[".pdf", ".txt", ".md", ".markdown"],
                            type="filepath",
                            elem_id="upload",
                        )
                        cancel_upload = gr.Button(
                            "Stop adding files",
                            variant="stop",
                            visible=False,
                            size="sm",
                            elem_id="cancel-upload",
                        )
                        report = gr.Markdown(elem_id="upload-report")
                        docs = gr.Dataframe(
                            headers=[
                                "File",
                                "Pages",
                                "Passages",
                                "Size",
                                "Uploaded (UTC)",
                                "sha256",
                                "Status",
                            ],
                            datatype=["str", "number", "number", "str", "str", "str", "str"],
                            interactive=False,
                            label="Documents",
                            elem_id="documents",
                        )
                        with gr.Row():
                            doc_pick = gr.Dropdown(label="Document", choices=[], scale=3)
                            remove = gr.Button("Remove document", variant="stop", scale=1)
                        gr.Markdown(
                            "#### Flagged passages\nPassages that seem to talk to an AI instead "
                            "of the reader (instructions, chat-role markers, web addresses to "
                            "visit, encoded or invisible text), and text hidden from readers."
                        )
                        flag_summary = gr.Markdown(elem_id="flag-summary")
                        flags = gr.Dataframe(
                            headers=flagged.HEADERS,
                            datatype=["str", "number", "str", "str", "str"],
                            interactive=False,
                            wrap=True,
                            label="Flagged",
                            elem_id="flags",
                        )
                        flag_pick = gr.CheckboxGroup(
                            label="Choose flagged passages", choices=[], elem_id="flag-pick"
                        )
                        with gr.Row():
                            exclude_flagged = gr.Button(
                                "Exclude from answers", variant="stop", elem_id="exclude-flagged"
                            )
                            keep_flagged = gr.Button("Keep as data", elem_id="keep-flagged")
                    with gr.Tab("Share", id="share"):
                        gr.Markdown(
                            "Share an assistant's configuration (name, description, "
                            "instructions, starters, temperature) as a file."
                        )
                        export_btn = gr.Button("Export configuration", elem_id="export")
                        export_file = gr.File(label="Exported file", interactive=False)
                        import_file = gr.File(
                            label="Import an assistant file (.json)",
                            file_types=[".json"],
                            type="filepath",
                            elem_id="import",
                        )

        config = [name, description, instructions, *starter_boxes, temperature]
        model_config = [model_pick, server_url, server_model, server_key, server_ctx]
        screen = [
            current,
            title,
            chatbot,
            *config,
            *starters,
            docs,
            doc_pick,
            *model_config,
            status,
        ]
        model_pick.change(lambda v: gr.update(visible=v == "server"), [model_pick], [server_group])

        def open_(aid: int | None) -> list[Any]:
            return h.open_assistant(aid)

        flag_view = [flag_summary, flags, flag_pick]
        picker.input(open_, [picker], screen).then(h.flag_view, [current], flag_view)
        app.load(lambda: gr.update(choices=h.assistant_choices()), None, [picker])

        def new() -> list[Any]:
            return [
                *h.new_assistant(),
                gr.Tabs(selected="configure"),
                gr.update(value=None),
                *h.model_values(None),
            ]

        new_btn.click(new, None, [current, *config, status, tabs, picker, *model_config]).then(
            h.flag_view, [current], flag_view
        )

        save.click(
            h.save_assistant, [current, *config, *model_config], [current, picker, status]
        ).then(lambda aid, note: [*h.open_assistant(aid)[:-1], note], [current, status], screen)
        delete.click(lambda: gr.update(visible=True), None, [confirm_row])
        cancel.click(lambda: gr.update(visible=False), None, [confirm_row])
        confirm.click(h.delete_assistant, [current], [current, picker, status]).then(
            lambda note: [*h.open_assistant(None)[:-1], note, gr.update(visible=False)],
            [status],
            [*screen, confirm_row],
        ).then(h.flag_view, [current], flag_view)

        def upload_(
            aid: int | None,
            files: list[str] | None,
            progress=gr.Progress(),  # noqa: B008 (Gradio fills it in)
        ) -> Iterator[list]:
            yield from h.upload(aid, files, progress)

        upload.upload(
            upload_,
            [current, upload],
            [report, docs, doc_pick, upload, upload_job, cancel_upload],
            show_progress_on=[upload],
        ).then(
            lambda aid: h.title(h.s.repo.get_assistant(aid)) if aid else h.title(None),
            [current],
            [title],
        ).then(h.flag_view, [current], flag_view)
        cancel_upload.click(h.cancel_upload, [upload_job], [status])
        remove.click(h.remove_document, [current, doc_pick], [status, docs, doc_pick]).then(
            h.flag_view, [current], flag_view
        )
        exclude_flagged.click(
            lambda aid, ids: h.set_flagged(aid, ids, True),
            [current, flag_pick],
            [status, *flag_view],
        )
        keep_flagged.click(
            lambda aid, ids: h.set_flagged(aid, ids, False),
            [current, flag_pick],
            [status, *flag_view],
        )

        ask = {"fn": h.chat, "inputs": [current, question, chatbot], "outputs": [chatbot, question]}
        send.click(**ask)
        question.submit(**ask)
        for btn in starters:
            btn.click(h.chat, [current, btn, chatbot], [chatbot, question])
        clear.click(h.clear_chat, [current], [chatbot])
        chatbot.clear(h.clear_chat, [current], [chatbot])  # the chat's own trash button

        export_btn.click(h.export, [current], [export_file, status])
        import_file.upload(h.import_file, [import_file], [current, picker, status]).then(
            lambda aid, note: [*h.open_assistant(aid)[:-1], note], [current, status], screen
        ).then(lambda: [None, gr.Tabs(selected="chat")], None, [import_file, tabs]).then(
            h.flag_view, [current], flag_view
        )

    return app
