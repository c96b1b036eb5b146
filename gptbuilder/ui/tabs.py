"""The tabs of the app, one function each: their components, registered by the names the
handlers use. The gallery's cards are drawn (and their buttons wired) whenever they change;
everything else is wired in ``layout``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gptbuilder.ingest.sniff import SUPPORTED_LABEL, SUPPORTED_SUFFIXES
from gptbuilder.ui import flagged
from gptbuilder.ui.components import Components
from gptbuilder.ui.gallery import Card, Gallery, card_markdown
from gptbuilder.ui.handlers import (
    KIND_CHOICES,
    SCREEN,
    STARTER_BOXES,
    STARTER_BUTTONS,
    Handlers,
)

NAVIGATE = ("tabs", "active_tab")  # which tab shows, and the state that remembers it


def gallery_tab(ui: Components, g: Gallery) -> None:
    import gradio as gr

    with ui.add("gallery_tab", gr.Tab("Gallery", id="gallery")):
        search = ui.add(
            "search",
            gr.Textbox(
                placeholder="Search assistants by name or description…",
                show_label=False,
                elem_id="gallery-search",
            ),
        )
        with ui.add("gallery_confirm", gr.Row(visible=False, elem_id="gallery-confirm")):
            ui.add("gallery_question", gr.Markdown())
            ui.add(
                "gallery_yes",
                gr.Button("Yes, delete it", variant="stop", elem_id="gallery-delete-confirm"),
            )
            ui.add("gallery_no", gr.Button("Keep it", elem_id="gallery-delete-cancel"))

        @gr.render(inputs=[search, ui["gallery_version"]])
        def draw_cards(query: str | None, version: int | None) -> None:
            cards = g.cards(query)
            if not cards:
                gr.Markdown(g.empty_text(query), elem_id="gallery-empty")
                return
            with gr.Row(elem_id="gallery"):
                for c in cards:
                    card(ui, g, c)


def card(ui: Components, g: Gallery, c: Card) -> None:
    """One assistant's card, its buttons wired (drawn again whenever the cards change)."""
    import gradio as gr

    def button(label: str, what: str, **options: Any) -> Any:
        return gr.Button(
            label,
            min_width=60,
            size="sm",
            elem_id=f"gallery-{what}-{c.id}",
            elem_classes=f"gallery-{what}",
            **options,
        )

    with gr.Column(
        min_width=260,
        elem_classes="gallery-card",
        elem_id=f"gallery-card-{c.id}",
        key=f"card-{c.id}",
    ):
        gr.Markdown(card_markdown(c))
        with gr.Row():
            opener = button("Open", "open", variant="primary")
            copier = button("Duplicate", "duplicate")
            deleter = button("Delete…", "delete", variant="stop")
    opener.click(**ui.event(lambda aid=c.id: g.open(aid), [], (*SCREEN, *NAVIGATE, "picker")))
    copier.click(
        **ui.event(
            lambda v, aid=c.id: g.duplicate(aid, v),
            ["gallery_version"],
            ("picker", "notice", "gallery_version"),
        )
    )
    deleter.click(
        **ui.event(
            lambda aid=c.id: g.ask_delete(aid),
            [],
            ("pending_delete", "gallery_confirm", "gallery_question"),
        )
    )


def chat_tab(ui: Components, h: Handlers) -> None:
    import gradio as gr

    with ui.add("chat_tab", gr.Tab("Chat", id="chat")):
        ui.add("title", gr.Markdown(h.title(None), elem_classes="gptb-title"))
        ui.add(
            "chatbot",
            gr.Chatbot(
                label="Conversation",
                height=480,
                sanitize_html=True,
                render_markdown=True,
                latex_delimiters=[],
                buttons=["copy", "copy_all"],
                feedback_options=None,
                elem_id="chatbot",
            ),
        )
        with gr.Row():
            for i, name in enumerate(STARTER_BUTTONS):
                ui.add(name, gr.Button(visible=False, size="sm", elem_id=f"starter-{i}"))
        with gr.Row():
            ui.add(
                "question",
                gr.Textbox(
                    placeholder="Ask a question about the documents…",
                    show_label=False,
                    scale=6,
                    elem_id="question",
                ),
            )
            with gr.Column(scale=1, min_width=100):
                ui.add("send", gr.Button("Send", variant="primary", elem_id="send"))
                ui.add(
                    "stop_answer",
                    gr.Button("Stop", variant="stop", visible=False, elem_id="stop-answer"),
                )
        # What kind of answer, from which documents: automatic unless the user says.
        with gr.Row():
            ui.add(
                "scope_kind",
                gr.Dropdown(
                    choices=KIND_CHOICES,
                    value="auto",
                    label="Kind of answer",
                    scale=1,
                    min_width=180,
                    elem_id="scope-kind",
                ),
            )
            ui.add(
                "scope_documents",
                gr.Dropdown(
                    choices=[],
                    value=[],
                    multiselect=True,
                    label="Documents to read (none chosen: all)",
                    scale=3,
                    elem_id="scope-documents",
                ),
            )
        ui.add("clear", gr.Button("Clear conversation", size="sm"))


def configure_tab(ui: Components, models_dir: Path | None) -> None:
    import gradio as gr

    with ui.add("configure_tab", gr.Tab("Configure", id="configure")):
        ui.add("name", gr.Textbox(label="Name", max_length=80, elem_id="name"))
        ui.add("description", gr.Textbox(label="Description", lines=2, max_length=500))
        ui.add(
            "instructions",
            gr.Textbox(
                label="Instructions",
                lines=6,
                placeholder="How should the assistant behave? e.g. 'Answer in "
                "plain English for new employees.'",
            ),
        )
        with gr.Row():
            for i, name in enumerate(STARTER_BOXES):
                ui.add(name, gr.Textbox(label=f"Conversation starter {i + 1}", max_length=200))
        ui.add(
            "temperature",
            gr.Slider(
                0.0,
                1.5,
                value=0.2,
                step=0.05,
                label="Temperature",
                info="Low: sticks to the words of the documents. High: more varied.",
            ),
        )
        ui.add(
            "answer_style",
            gr.Radio(
                [
                    ("Quote first: the documents' words, then the model's", "quote_first"),
                    ("Quotes only: the documents' words, no model prose", "quotes_only"),
                ],
                value="quote_first",
                label="How answers are shown",
                info="Every sentence of the model is checked against the documents "
                "either way; with quotes only, the model is not used at all.",
                elem_id="answer-style",
            ),
        )
        ui.add(
            "model_pick",
            gr.Dropdown(
                label="Language model",
                info="Put more .gguf files in the models folder "
                f"({models_dir}) to choose them here.",
                choices=[],
                elem_id="model-pick",
            ),
        )
        with ui.add("server_group", gr.Group(visible=False)):
            ui.add(
                "server_url",
                gr.Textbox(
                    label="Server address",
                    placeholder="http://127.0.0.1:8080/v1",
                    elem_id="server-url",
                ),
            )
            with gr.Row():
                ui.add(
                    "server_model",
                    gr.Textbox(
                        label="Model name", placeholder="e.g. llama3.2", elem_id="server-model"
                    ),
                )
                ui.add(
                    "server_key",
                    gr.Textbox(label="API key (if the server needs one)", type="password"),
                )
                ui.add(
                    "server_context",
                    gr.Number(label="Context window (tokens)", value=4096, precision=0),
                )
        with gr.Row():
            ui.add("save", gr.Button("Save", variant="primary", elem_id="save"))
            ui.add("delete", gr.Button("Delete assistant…", variant="stop"))
        with ui.add("confirm_row", gr.Row(visible=False)):
            gr.Markdown(
                "**Delete this assistant?** Its documents and conversation "
                "are removed too. This cannot be undone."
            )
            ui.add("confirm", gr.Button("Yes, delete it", variant="stop"))
            ui.add("cancel", gr.Button("Keep it"))


def knowledge_tab(ui: Components) -> None:
    import gradio as gr

    with ui.add("knowledge_tab", gr.Tab("Knowledge", id="knowledge")):
        ui.add(
            "upload",
            gr.File(
                label=f"Add documents: {SUPPORTED_LABEL}",
                file_count="multiple",
                file_types=list(SUPPORTED_SUFFIXES),
                type="filepath",
                elem_id="upload",
            ),
        )
        ui.add(
            "cancel_upload",
            gr.Button(
                "Stop adding files",
                variant="stop",
                visible=False,
                size="sm",
                elem_id="cancel-upload",
            ),
        )
        ui.add("report", gr.Markdown(elem_id="upload-report"))
        ui.add(
            "documents",
            gr.Dataframe(
                headers=["File", "Pages", "Passages", "Size", "Uploaded (UTC)", "sha256", "Status"],
                datatype=["str", "number", "number", "str", "str", "str", "str"],
                interactive=False,
                label="Documents",
                elem_id="documents",
            ),
        )
        with gr.Row():
            ui.add(
                "document_pick",
                gr.Dropdown(label="Document", choices=[], scale=3, elem_id="document-pick"),
            )
            with gr.Column(scale=1, min_width=160):
                ui.add(
                    "summarise_document",
                    gr.Button("Summarise in the chat", elem_id="summarise-document"),
                )
                ui.add("remove", gr.Button("Remove document", variant="stop"))
        gr.Markdown(
            "#### Flagged passages\nPassages that seem to talk to an AI instead "
            "of the reader (instructions, chat-role markers, web addresses to "
            "visit, encoded or invisible text), and text hidden from readers."
        )
        ui.add("flag_summary", gr.Markdown(elem_id="flag-summary"))
        ui.add(
            "flags",
            gr.Dataframe(
                headers=flagged.HEADERS,
                datatype=["str", "number", "str", "str", "str"],
                interactive=False,
                wrap=True,
                label="Flagged",
                elem_id="flags",
            ),
        )
        ui.add(
            "flag_pick",
            gr.CheckboxGroup(label="Choose flagged passages", choices=[], elem_id="flag-pick"),
        )
        with gr.Row():
            ui.add(
                "exclude_flagged",
                gr.Button("Exclude from answers", variant="stop", elem_id="exclude-flagged"),
            )
            ui.add("keep_flagged", gr.Button("Keep as data", elem_id="keep-flagged"))


def share_tab(ui: Components) -> None:
    import gradio as gr

    with ui.add("share_tab", gr.Tab("Share", id="share")):
        gr.Markdown(
            "Export the whole assistant (configuration and documents) as one "
            "**.gptb** file, or only its configuration (name, description, "
            "instructions, starters, temperature) as **.json**."
        )
        ui.add(
            "include_index",
            gr.Checkbox(
                value=True,
                label="Include the search index",
                info="A larger file that imports faster where the same embedding "
                "model and passage settings are used.",
                elem_id="include-index",
            ),
        )
        with gr.Row():
            ui.add(
                "export_gptb",
                gr.Button("Export assistant (.gptb)", variant="primary", elem_id="export-gptb"),
            )
            ui.add("export_json", gr.Button("Export configuration only (.json)", elem_id="export"))
        ui.add(
            "export_file",
            gr.File(label="Exported file", interactive=False, elem_id="export-file"),
        )
        ui.add(
            "import_file",
            gr.File(
                label="Import an assistant (.gptb or .json)",
                file_types=[".gptb", ".json"],
                type="filepath",
                elem_id="import",
            ),
        )
