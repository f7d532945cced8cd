"""etl.serve: ``etl serve``, a STAC API and a read-only web page of runs and the catalog.

:mod:`etl.core.serve_address` holds the record of a running server (read by ``etl workflow get``,
the end of a followed run and a run's outcome event); :mod:`etl.serve.app` (FastAPI,
stac-fastapi-pgstac, uvicorn) loads only in ``etl serve``. See ``docs/serve.md``.

Nothing in etl imports through this file: etl's code imports each name from the module
that defines it (docs/internals.md, "Packages and who imports whom").
"""
