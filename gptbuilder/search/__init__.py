"""Finding passages: the per-assistant vector (``index_store``) and keyword
(``keyword_index``) indexes that ingestion writes, and the hybrid search that reads them
(``hybrid``). Both are derived data, rebuilt from the database when in doubt."""
