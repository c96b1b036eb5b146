"""Documents are data: what is done to their text so that it cannot act on the model or the
reader. Invisible characters and look-alike letters (``sanitize``), image markup
(``images``), instructions aimed at the model (``injection``: rules in ``injection_rules``,
the learned check in ``injection_model``). Ingestion uses it to flag passages; answering uses
it to fence sources and clean what is shown. It imports nothing above ``backends``."""
