"""Handlers fill components by name; Components.event hands Gradio {component: value}."""

from __future__ import annotations

import inspect

import gradio as gr
import pytest

from gptbuilder.ui.components import Components


def _ui() -> Components:
    ui = Components()
    with gr.Blocks():
        ui.add("title", gr.Markdown())
        ui.add("notice", gr.Markdown())
        ui.add("current", gr.State(None))
    return ui


def test_names_become_components_and_names_left_out_are_skipped():
    ui = _ui()
    event = ui.event(lambda aid: {"title": f"#{aid}"}, ["current"], ("title", "notice"))
    assert event["inputs"] == [ui["current"]]
    assert event["outputs"] == [ui["title"], ui["notice"]]
    assert event["fn"](3) == {ui["title"]: "#3", ui["notice"]: gr.skip()}


def test_a_name_that_is_not_an_output_is_an_error():
    ui = _ui()
    event = ui.event(lambda: {"current": 1}, [], ("title",))
    with pytest.raises(ValueError, match="current"):
        event["fn"]()
    with pytest.raises(ValueError, match="two components"):
        ui.add("title", object())


def test_a_generator_stays_a_generator_and_is_closed_with_its_stream():
    ui = _ui()
    closed = []

    def steps(n: int, progress=None):  # type: ignore[no-untyped-def]
        try:
            for i in range(n):
                yield {"notice": str(i)}
        finally:
            closed.append(True)

    event = ui.event(steps, ["current"], ("notice",))
    fn = event["fn"]
    assert inspect.isgeneratorfunction(fn)
    assert list(inspect.signature(fn).parameters) == ["n", "progress"], "Gradio reads these"
    stream = fn(5)
    assert next(stream) == {ui["notice"]: "0"}
    stream.close()  # the page went away
    assert closed == [True]
