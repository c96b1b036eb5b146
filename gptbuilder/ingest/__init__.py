"""Turning files into pages, and pages into chunks with provenance."""
