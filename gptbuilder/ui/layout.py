"""Gradio layout: components and wiring only; the logic lives in ``handlers``."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

from gptbuilder.ingest.sniff import SUPPORTED_LABEL, SUPPORTED_SUFFIXES
from gptbuilder.personas.definition import MAX_STARTERS
from gptbuilder.services import Services
from gptbuilder.ui import flagged
from gptbuilder.ui.gallery import Gallery, card_markdown
from gptbuilder.ui.handlers import Handlers

log = logging.getLogger(__name__)

CSS = """
.gptb-notice p { margin: 0.2em 0; }
.gptb-title h3 { margin-bottom: 0.1em; }
.gallery-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px; }
.gallery-card h3 { margin: 0 0 0.3em 0; overflow-wrap: anywhere; }
/* The documents' own words (verified, verbatim) look different from the model's words. */
#chatbot blockquote { border-left: 4px solid #2da44e; background: #eef9f0; margin: 0.4em 0;
  padding: 0.4em 0.8em; font-family: Georgia, 'Times New Roman', serif; }
"""


def build_app(services: Services) -> Any:
    """The whole UI as a ``gr.Blocks``. Nothing is launched."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    h = Handlers(services)
    g = Gallery(h)

    with gr.Blocks(title="GPT Builder", analytics_enabled=False) as app:
        current = gr.State(None)  # id of the assistant this browser tab works on
        upload_job = gr.State(None)  # id of this tab's running upload, for its cancel button
        gallery_version = gr.State(0)  # bumped when assistants change, to redraw the cards
        pending_delete = gr.State(None)  # id of the card whose delete awaits confirmation
        active_tab = gr.State("gallery")  # which tab this browser tab shows

        with gr.Row():
            with gr.Column(scale=1, min_width=220):
                gr.Markdown("## GPT Builder\nPrivate assistants that answer from your documents.")
                picker = gr.Radio(
                    label="Your assistants", choices=h.assistant_choices(), elem_id="picker"
                )
                new_btn = gr.Button("+ New assistant", variant="primary", elem_id="new-assistant")
            with gr.Column(scale=4):
                status = gr.Markdown(elem_classes="gptb-notice", elem_id="notice")
                with gr.Tabs(selected="gallery") as tabs:
                    with gr.Tab("Gallery", id="gallery") as gallery_tab:
                        search = gr.Textbox(
                            placeholder="Search assistants by name or description…",
                            show_label=False,
                            elem_id="gallery-search",
                        )
                        with gr.Row(visible=False, elem_id="gallery-confirm") as gallery_confirm:
                            gallery_question = gr.Markdown()
                            gallery_yes = gr.Button(
                                "Yes, delete it", variant="stop", elem_id="gallery-delete-confirm"
                            )
                            gallery_no = gr.Button("Keep it", elem_id="gallery-delete-cancel")

                        @gr.render(inputs=[search, gallery_version])
                        def draw_cards(query: str | None, version: int | None) -> None:
                            cards = g.cards(query)
                            if not cards:
                                gr.Markdown(g.empty_text(query), elem_id="gallery-empty")
                                return
                            with gr.Row(elem_id="gallery"):
                                for c in cards:
                                    draw_card(c)

                        def draw_card(c: Any) -> None:
                            with gr.Column(
                                min_width=260,
                                elem_classes="gallery-card",
                                elem_id=f"gallery-card-{c.id}",
                                key=f"card-{c.id}",
                            ):
                                gr.Markdown(card_markdown(c))
                                with gr.Row():
                                    opener = gr.Button(
                                        "Open",
                                        min_width=60,
                                        variant="primary",
                                        size="sm",
                                        elem_id=f"gallery-open-{c.id}",
                                        elem_classes="gallery-open",
                                    )
                                    copier = gr.Button(
                                        "Duplicate",
                                        min_width=60,
                                        size="sm",
                                        elem_id=f"gallery-duplicate-{c.id}",
                                        elem_classes="gallery-duplicate",
                                    )
                                    deleter = gr.Button(
                                        "Delete…",
                                        min_width=60,
                                        variant="stop",
                                        size="sm",
                                        elem_id=f"gallery-delete-{c.id}",
                                        elem_classes="gallery-delete",
                                    )
                            opener.click(
                                lambda aid=c.id: g.open(aid),
                                None,
                                [*screen, tabs, picker, active_tab],
                            )
                            copier.click(
                                lambda v, aid=c.id: g.duplicate(aid, v),
                                [gallery_version],
                                [picker, status, gallery_version],
                            )
                            deleter.click(
                                lambda aid=c.id: g.ask_delete(aid),
                                None,
                                [pending_delete, gallery_confirm, gallery_question],
                            )

                    with gr.Tab("Chat", id="chat") as chat_tab:
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
                    with gr.Tab("Configure", id="configure") as configure_tab:
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
                        answer_style = gr.Radio(
                            [
                                (
                                    "Quote first: the documents' words, then the model's",
                                    "quote_first",
                                ),
                                (
                                    "Quotes only: the documents' words, no model prose",
                                    "quotes_only",
                                ),
                            ],
                            value="quote_first",
                            label="How answers are shown",
                            info="Every sentence of the model is checked against the documents "
                            "either way; with quotes only, the model is not used at all.",
                            elem_id="answer-style",
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
                    with gr.Tab("Knowledge", id="knowledge") as knowledge_tab:
                        upload = gr.File(
                            label=f"Add documents: {SUPPORTED_LABEL}",
                            file_count="multiple",
                            file_types=list(SUPPORTED_SUFFIXES),
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
                    with gr.Tab("Share", id="share") as share_tab:
                        gr.Markdown(
                            "Export the whole assistant (configuration and documents) as one "
                            "**.gptb** file, or only its configuration (name, description, "
                            "instructions, starters, temperature) as **.json**."
                        )
                        include_index = gr.Checkbox(
                            value=True,
                            label="Include the search index",
                            info="A larger file that imports faster where the same embedding "
                            "model and passage settings are used.",
                            elem_id="include-index",
                        )
                        with gr.Row():
                            export_gptb = gr.Button(
                                "Export assistant (.gptb)", variant="primary", elem_id="export-gptb"
                            )
                            export_btn = gr.Button(
                                "Export configuration only (.json)", elem_id="export"
                            )
                        export_file = gr.File(
                            label="Exported file", interactive=False, elem_id="export-file"
                        )
                        import_file = gr.File(
                            label="Import an assistant (.gptb or .json)",
                            file_types=[".gptb", ".json"],
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
            answer_style,
            status,
        ]
        model_pick.change(lambda v: gr.update(visible=v == "server"), [model_pick], [server_group])

        def open_(aid: int | None) -> list[Any]:
            return h.open_assistant(aid)

        flag_view = [flag_summary, flags, flag_pick]
        picker.input(open_, [picker], screen).then(h.flag_view, [current], flag_view)
        # Picking an assistant while the gallery shows goes to its chat, like its Open button.
        picker.input(g.leave_gallery, [active_tab], [tabs, active_tab])
        for tab, tab_id in [
            (gallery_tab, "gallery"),
            (chat_tab, "chat"),
            (configure_tab, "configure"),
            (knowledge_tab, "knowledge"),
            (share_tab, "share"),
        ]:
            tab.select(lambda tab_id=tab_id: tab_id, None, [active_tab])
        knowledge_tab.select(h.flag_view, [current], flag_view)
        app.load(lambda: gr.update(choices=h.assistant_choices()), None, [picker])

        def bump(version: int | None) -> int:
            return (version or 0) + 1

        redraw = {"fn": bump, "inputs": [gallery_version], "outputs": [gallery_version]}

        def new() -> list[Any]:
            return [
                *h.new_assistant(),
                *g.switch_to("configure"),
                gr.update(value=None),
                *h.model_values(None),
                "quote_first",
            ]

        new_btn.click(
            new,
            None,
            [current, *config, status, tabs, active_tab, picker, *model_config, answer_style],
        ).then(h.flag_view, [current], flag_view)

        save.click(
            h.save_assistant,
            [current, *config, *model_config, answer_style],
            [current, picker, status],
        ).then(
            lambda aid, note: [*h.open_assistant(aid)[:-1], note], [current, status], screen
        ).then(**redraw)
        delete.click(lambda: gr.update(visible=True), None, [confirm_row])
        cancel.click(lambda: gr.update(visible=False), None, [confirm_row])
        confirm.click(h.delete_assistant, [current], [current, picker, status]).then(
            lambda note: [*h.open_assistant(None)[:-1], note, gr.update(visible=False)],
            [status],
            [*screen, confirm_row],
        ).then(**redraw).then(h.flag_view, [current], flag_view)
        gallery_yes.click(
            g.delete,
            [pending_delete, current, gallery_version],
            [current, picker, status, gallery_confirm, pending_delete, gallery_version],
        ).then(g.screen_after_delete, [current, status], screen)
        gallery_no.click(g.cancel_delete, None, [pending_delete, gallery_confirm])

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
        ).then(**redraw).then(h.flag_view, [current], flag_view)
        # The notice above ("Created …. Now add documents …") has been followed: clear it.
        upload.upload(lambda: "", None, [status], queue=False, show_progress="hidden")
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

        # "last used" changed: the gallery is redrawn after every question
        send.click(h.chat, [current, question, chatbot], [chatbot, question]).then(**redraw)
        question.submit(h.chat, [current, question, chatbot], [chatbot, question]).then(**redraw)
        for btn in starters:
            btn.click(h.chat, [current, btn, chatbot], [chatbot, question]).then(**redraw)
        clear.click(h.clear_chat, [current], [chatbot])
        chatbot.clear(h.clear_chat, [current], [chatbot])  # the chat's own trash button

        export_btn.click(h.export, [current], [export_file, status])
        export_gptb.click(h.export_bundle, [current, include_index], [export_file, status])

        imported = gr.State(False)  # whether the last import made an assistant

        def import_(
            file: str | None,
            progress=gr.Progress(),  # noqa: B008 (Gradio fills it in)
        ) -> list[Any]:
            aid, pick, note = h.import_file(file, progress)
            return [aid, pick, note, isinstance(aid, int)]

        import_file.upload(
            import_,
            [import_file],
            [current, picker, status, imported],
            show_progress_on=[import_file],
        ).then(
            lambda aid, note: [*h.open_assistant(aid)[:-1], note], [current, status], screen
        ).then(
            lambda ok: [None, *g.switch_to("chat" if ok else "share")],
            [imported],
            [import_file, tabs, active_tab],
        ).then(**redraw).then(h.flag_view, [current], flag_view)

    return app
