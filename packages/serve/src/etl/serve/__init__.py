"""etl.serve: ``etl serve``, a STAC API and a read-only web page of runs and the catalog.

:mod:`etl.serve.address` (the record of a running server, read by ``etl workflow get`` and the
end of a followed run) imports nothing heavy; the rest (:mod:`etl.serve.app`, FastAPI,
stac-fastapi-pgstac, uvicorn) loads only in ``etl serve``. See ``docs/serve.md``.
"""

from __future__ import annotations

__all__: list[str] = []
