"""Whole-document tasks: summaries, lists of every instance of a thing, comparisons.

A document is paged through the model's small window section by section, from its stored
passages (never re-read or re-embedded); what was read is accounted for; every point shown is
held to a source span by the claim checker (``retrieval.claims``). See ``engine.TaskEngine``.
"""
