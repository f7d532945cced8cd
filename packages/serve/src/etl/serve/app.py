"""The ASGI app of ``etl serve``: the read-only pages and, under
:data:`etl.serve.stac_api.STAC_PATH`, the STAC API (stac-fastapi-pgstac).

Pages read the active profile's runner (:mod:`etl.serve.runs`) and PgSTAC (:mod:`etl.serve.catalog`,
and for the collections of the datasets ``etl serve -d`` was given,
:func:`etl.runner.catalog_reports.dataset_status`). Handlers are plain functions: Starlette runs
them in its thread pool, so the blocking library calls never hold up the STAC API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from etl.core.errors import EtlError, RemoteError
from etl.core.profiles.model import Profile
from etl.dataset.loader import LoadedDataset
from etl.dataset.model import CollectionConfig
from etl.pgstac.errors import CollectionNotFoundError
from etl.pgstac.session import connect_pgstac
from etl.runner.catalog_reports import dataset_status
from etl.runner.workflow_runner import WorkflowRunner
from etl.runner.workflow_status import WorkflowNotFoundError
from etl.serve import pages
from etl.serve.catalog import collection_ids, collection_view
from etl.serve.runs import list_runs, read_run

__all__ = ["ServeContext", "serve_app"]

_STATIC = Path(__file__).parent / "static"
_NOT_FOUND, _BAD_GATEWAY = 404, 502
_Render = Callable[["ServeContext", Request], str]
_Endpoint = Callable[[Request], Response]


@dataclass
class ServeContext:
    """What the pages read: the profile, its runner and PgSTAC, and the datasets given.

    Attributes:
        api: Whether the STAC API is served too (not with ``--no-api``).
        stac_url: The STAC API's URL, once the server knows its port.
        datasets: By collection id, the loaded dataset and the collection's config.
    """

    profile: Profile
    runner: WorkflowRunner
    dsn: str
    api: bool = True
    stac_url: str | None = None
    datasets: dict[str, tuple[LoadedDataset, CollectionConfig]] = field(default_factory=dict)

    @property
    def page(self) -> pages.Page:
        """The pages' common frame."""
        return pages.Page(self.profile.name, self.runner.kind, self.stac_url)


def serve_app(context: ServeContext) -> Starlette:
    """The app: ``/runs``, ``/runs/NAME``, ``/collections``, ``/collections/ID``, ``/static``
    and, with ``context.api``, the STAC API."""
    routes = [
        Route("/", lambda _: RedirectResponse("/runs")),
        Route("/runs", _handler(context, _runs)),
        Route("/runs/{name}", _handler(context, _run)),
        Route("/collections", _handler(context, _catalog)),
        Route("/collections/{collection}", _handler(context, _collection)),
        Mount("/static", StaticFiles(directory=_STATIC), name="static"),
    ]
    if not context.api:
        return Starlette(routes=routes)

    from etl.serve.stac_api import connect, disconnect, stac_api

    api = stac_api(f"etl · {context.profile.name}")
    routes.append(Mount("", app=api))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await connect(api, context.dsn)
        try:
            yield
        finally:
            await disconnect(api)

    return Starlette(routes=routes, lifespan=lifespan)


def _handler(context: ServeContext, render: _Render) -> _Endpoint:
    def endpoint(request: Request) -> Response:
        try:
            return HTMLResponse(render(context, request))
        except (WorkflowNotFoundError, CollectionNotFoundError) as exc:
            return _error(context, "Not found", str(exc), _NOT_FOUND)
        except EtlError as exc:
            code = _BAD_GATEWAY if isinstance(exc, RemoteError) else 500
            return _error(context, "Cannot show this page", str(exc), code)

    return endpoint


def _error(context: ServeContext, title: str, message: str, code: int) -> Response:
    return HTMLResponse(pages.error_page(context.page, title, message), status_code=code)


def _runs(context: ServeContext, request: Request) -> str:
    phase = request.query_params.get("status") or None
    dataset = request.query_params.get("dataset") or None
    rows = list_runs(context.runner, phase=phase)
    datasets = sorted({row.dataset for row in rows if row.dataset})
    chosen = [row for row in rows if not dataset or row.dataset == dataset]
    return pages.runs_page(context.page, chosen, datasets, phase, dataset)


def _run(context: ServeContext, request: Request) -> str:
    run = read_run(context.runner, context.profile, request.path_params["name"])
    return pages.run_page(context.page, run)


def _catalog(context: ServeContext, _: Request) -> str:
    with connect_pgstac(context.dsn) as conn:
        views = [collection_view(conn, c, footprints=False) for c in collection_ids(conn)]
    return pages.catalog_page(context.page, views)


def _collection(context: ServeContext, request: Request) -> str:
    collection_id = request.path_params["collection"]
    with connect_pgstac(context.dsn) as conn:
        view = collection_view(conn, collection_id, footprints=True)
    if not view.state.exists:
        raise CollectionNotFoundError(collection_id)
    status = None
    if collection_id in context.datasets:
        loaded, config = context.datasets[collection_id]
        (status,) = dataset_status(loaded, [config], context.profile, context.runner)
    items = f"{context.stac_url}/collections/{collection_id}/items" if context.stac_url else None
    return pages.collection_page(context.page, view, status, items)
