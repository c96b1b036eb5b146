"""Gradio layout: components and wiring only; the logic lives in ``handlers`` and
``gallery``. Each tab is built by a function of its own, then each part of the app is wired;
components are found by the names the handlers use (``components.Components``)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

from gptbuilder.services import Services
from gptbuilder.ui import tabs
from gptbuilder.ui.chat import CHAT
from gptbuilder.ui.components import Components
from gptbuilder.ui.gallery import Gallery
from gptbuilder.ui.handlers import (
    CONFIG,
    DOCUMENTS,
    FLAG_VIEW,
    MODEL_CONFIG,
    NEW_ASSISTANT,
    SAVED,
    SCREEN,
    STARTER_BUTTONS,
    UPLOAD,
    Handlers,
)

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

TABS = ("gallery", "chat", "configure", "knowledge", "share")
NAVIGATE = tabs.NAVIGATE


def build_app(services: Services) -> Any:
    """The whole UI as a ``gr.Blocks``. Nothing is launched."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    h = Handlers(services)
    g = Gallery(h)
    ui = Components()

    with gr.Blocks(title="GPT Builder", analytics_enabled=False) as app:
        ui.add("current", gr.State(None))  # id of the assistant this browser tab works on
        ui.add("upload_job", gr.State(None))  # this tab's running upload, for its cancel
        ui.add("turn_id", gr.State(None))  # this tab's answer being written, for its Stop
        ui.add("gallery_version", gr.State(0))  # bumped when assistants change: redraw cards
        ui.add("pending_delete", gr.State(None))  # the card whose delete awaits confirmation
        ui.add("active_tab", gr.State("gallery"))  # which tab this browser tab shows
        ui.add("imported", gr.State(False))  # whether the last import made an assistant

        with gr.Row():
            with gr.Column(scale=1, min_width=220):
                gr.Markdown("## GPT Builder\nPrivate assistants that answer from your documents.")
                ui.add(
                    "picker",
                    gr.Radio(
                        label="Your assistants", choices=h.assistant_choices(), elem_id="picker"
                    ),
                )
                ui.add(
                    "new_assistant",
                    gr.Button("+ New assistant", variant="primary", elem_id="new-assistant"),
                )
            with gr.Column(scale=4):
                ui.add("notice", gr.Markdown(elem_classes="gptb-notice", elem_id="notice"))
                with ui.add("tabs", gr.Tabs(selected="gallery")):
                    tabs.gallery_tab(ui, g)
                    tabs.chat_tab(ui, h)
                    tabs.configure_tab(ui, services.settings.models_dir)
                    tabs.knowledge_tab(ui)
                    tabs.share_tab(ui)

        _wire_navigation(ui, h, g, app)
        _wire_assistants(ui, h, g)
        _wire_knowledge(ui, h)
        _wire_chat(ui, h)
        _wire_share(ui, h, g)
    return app


# -- wiring --------------------------------------------------------------------------------------


def _redraw(ui: Components) -> dict[str, Any]:
    """Listener arguments that bump the gallery's version, so that its cards are drawn again
    (names, document counts and "last used" change)."""

    def bump(version: int | None) -> int:
        return (version or 0) + 1

    return {"fn": bump, "inputs": ui("gallery_version"), "outputs": ui("gallery_version")}


def _flag_view(ui: Components, h: Handlers) -> dict[str, Any]:
    return ui.event(h.flag_view, ["current"], FLAG_VIEW)


def _wire_navigation(ui: Components, h: Handlers, g: Gallery, app: Any) -> None:
    """Picking an assistant, and remembering which tab shows."""
    import gradio as gr

    ui["picker"].input(**ui.event(h.open_assistant, ["picker"], SCREEN)).then(**_flag_view(ui, h))
    # Picking an assistant while the gallery shows goes to its chat, like its Open button.
    ui["picker"].input(**ui.event(g.leave_gallery, ["active_tab"], NAVIGATE))
    for tab_id in TABS:
        ui[f"{tab_id}_tab"].select(lambda tab_id=tab_id: tab_id, None, ui("active_tab"))
    ui["knowledge_tab"].select(**_flag_view(ui, h))
    app.load(lambda: gr.update(choices=h.assistant_choices()), None, ui("picker"))


def _wire_assistants(ui: Components, h: Handlers, g: Gallery) -> None:
    """New, save and delete (in Configure and from a gallery card)."""
    import gradio as gr

    ui["new_assistant"].click(
        **ui.event(
            lambda: {**h.new_assistant(), **g.switch_to("configure")},
            [],
            (*NEW_ASSISTANT, *NAVIGATE),
        )
    ).then(**_flag_view(ui, h))

    def screen_with(aid: int | None, note: str) -> dict[str, Any]:
        return {**h.open_assistant(aid), "notice": note}

    ui["save"].click(
        **ui.event(h.save_assistant, ["current", *CONFIG, *MODEL_CONFIG, "answer_style"], SAVED)
    ).then(**ui.event(screen_with, ["current", "notice"], SCREEN)).then(**_redraw(ui))

    ui["model_pick"].change(
        lambda v: gr.update(visible=v == "server"), ui("model_pick"), ui("server_group")
    )
    ui["delete"].click(lambda: gr.update(visible=True), None, ui("confirm_row"))
    ui["cancel"].click(lambda: gr.update(visible=False), None, ui("confirm_row"))
    ui["confirm"].click(**ui.event(h.delete_assistant, ["current"], SAVED)).then(
        **ui.event(
            lambda note: {**screen_with(None, note), "confirm_row": gr.update(visible=False)},
            ["notice"],
            (*SCREEN, "confirm_row"),
        )
    ).then(**_redraw(ui)).then(**_flag_view(ui, h))

    ui["gallery_yes"].click(
        **ui.event(
            g.delete,
            ["pending_delete", "current", "gallery_version"],
            ("current", "picker", "notice", "gallery_confirm", "pending_delete", "gallery_version"),
        )
    ).then(**ui.event(g.screen_after_delete, ["current", "notice"], SCREEN))
    ui["gallery_no"].click(**ui.event(g.cancel_delete, [], ("pending_delete", "gallery_confirm")))


def _wire_knowledge(ui: Components, h: Handlers) -> None:
    """Uploads (with their cancel), removal, flagged passages."""
    import gradio as gr

    def upload(
        aid: int | None,
        files: list[str] | None,
        progress=gr.Progress(),  # noqa: B008 (Gradio fills it in)
    ) -> Iterator[dict[str, Any]]:
        yield from h.upload(aid, files, progress)

    ui["upload"].upload(
        **ui.event(upload, ["current", "upload"], UPLOAD, show_progress_on=ui("upload"))
    ).then(h.title_of, ui("current"), ui("title")).then(**_redraw(ui)).then(**_flag_view(ui, h))
    # The notice above ("Created …. Now add documents …") has been followed: clear it.
    ui["upload"].upload(lambda: "", None, ui("notice"), queue=False, show_progress="hidden")
    ui["cancel_upload"].click(h.cancel_upload, ui("upload_job"), ui("notice"))
    ui["remove"].click(
        **ui.event(h.remove_document, ["current", "document_pick"], ("notice", *DOCUMENTS))
    ).then(**_flag_view(ui, h))
    # Summarise a document: the chat shows, and the summary is written there.
    ui["summarise_document"].click(
        **ui.event(
            h.summarise_document,
            ["current", "document_pick", "chatbot"],
            (*CHAT, "notice", *NAVIGATE),
        )
    ).then(**_redraw(ui))
    for button, excluded in [("exclude_flagged", True), ("keep_flagged", False)]:
        ui[button].click(
            **ui.event(
                lambda aid, ids, excluded=excluded: h.set_flagged(aid, ids, excluded),
                ["current", "flag_pick"],
                ("notice", *FLAG_VIEW),
            )
        )


def _wire_chat(ui: Components, h: Handlers) -> None:
    """Questions (typed or a starter, with the kind of answer and the documents chosen next
    to the chat box), their Stop button, and clearing the conversation. The gallery is drawn
    again after every question: "last used" changed."""
    for trigger, text in [
        (ui["send"].click, "question"),
        (ui["question"].submit, "question"),
        *[(ui[name].click, name) for name in STARTER_BUTTONS],
    ]:
        inputs = ["current", text, "chatbot", "scope_kind", "scope_documents"]
        trigger(**ui.event(h.ask, inputs, CHAT)).then(**_redraw(ui))
    ui["stop_answer"].click(h.stop_answer, ui("turn_id"), ui("stop_answer"))
    ui["clear"].click(h.clear_chat, ui("current"), ui("chatbot"))
    ui["chatbot"].clear(h.clear_chat, ui("current"), ui("chatbot"))  # the chat's own trash button


def _wire_share(ui: Components, h: Handlers, g: Gallery) -> None:
    """Export (configuration or everything) and import; after an import, its chat shows if
    an assistant was made, the Share tab (with the reason) if not."""
    import gradio as gr

    exported = ("export_file", "notice")
    ui["export_json"].click(**ui.event(h.export, ["current"], exported))
    ui["export_gptb"].click(**ui.event(h.export_bundle, ["current", "include_index"], exported))

    def import_(
        file: str | None,
        progress=gr.Progress(),  # noqa: B008 (Gradio fills it in)
    ) -> dict[str, Any]:
        return h.import_file(file, progress)

    def screen_with(aid: int | None, note: str) -> dict[str, Any]:
        return {**h.open_assistant(aid), "notice": note}

    def after(made: bool) -> dict[str, Any]:
        return {"import_file": None, **g.switch_to("chat" if made else "share")}

    ui["import_file"].upload(
        **ui.event(
            import_,
            ["import_file"],
            ("current", "picker", "notice", "imported"),
            show_progress_on=ui("import_file"),
        )
    ).then(**ui.event(screen_with, ["current", "notice"], SCREEN)).then(
        **ui.event(after, ["imported"], ("import_file", *NAVIGATE))
    ).then(**_redraw(ui)).then(**_flag_view(ui, h))
