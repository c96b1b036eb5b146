"""GPT Builder: private, local assistants that answer from your documents with citations."""

__version__ = "0.1.0"
