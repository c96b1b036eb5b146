"""Protocols for the heavy components, their real adapters and deterministic fakes.

Heavy libraries (torch, faiss, llama_cpp) are imported inside the adapters only.
"""
