"""The assistant definition: validation, and sharing as a file."""
