"""Chunking: list a collection's assets at storage speed and cut them into chunk files.

``create_chunks(collection, run_id=...)`` lists every ``asset_storage`` entry (filters, splits,
limits, ``since``), streams the URIs into ``{run_id}/chunks/00000.txt ...`` in the chunk storage
and writes ``manifest.json`` last; ``read_chunk_uris`` is how anything reads a chunk back. See
``docs/chunking.md``.

Nothing in etl imports through this file: etl's code imports each name from the module
that defines it (docs/internals.md, "Packages and who imports whom").
"""
