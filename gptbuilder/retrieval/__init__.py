"""Answers: judging what was found, building prompts, and holding every sentence shown to its
source (search is in ``gptbuilder.search``, document safety in ``gptbuilder.safety``)."""
