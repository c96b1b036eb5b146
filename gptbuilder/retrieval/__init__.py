"""Finding passages, building prompts, and mapping answers back to their sources."""
