"""Gradio user interface: layout (wiring only), handlers (plain functions), render (pure)."""
