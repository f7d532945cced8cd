"""etl.serve: ``etl serve``, a STAC API and a read-only web page of runs and the catalog.

:mod:`etl.serve.address` (the record of a running server, read by ``etl workflow get`` and the
end of a followed run) imports nothing heavy; the rest (:mod:`etl.serve.app`, FastAPI,
stac-fastapi-pgstac, uvicorn) loads only in ``etl serve``. See ``docs/serve.md``.

Nothing in etl imports through this file: etl's code imports each name from the module
that defines it (docs/internals.md, "Packages and who imports whom").
"""
