"""Where a profile's Argo Server is, and a workflow's page in its UI.

The Argo Server client (``etl.runner.argo_server.client``) talks to :func:`server_base_url`; the
compiler writes :func:`workflow_page_url` of ``{{workflow.name}}`` into the exit handler of a
dataset with notifications, so a run's outcome event links to the run's page.
"""

from __future__ import annotations

from urllib.parse import quote, urljoin

from etl.core.profiles.model import ArgoSettings

__all__ = ["server_base_url", "workflow_page_url"]


def server_base_url(settings: ArgoSettings) -> str | None:
    """The Argo Server's base URL, base path included, always ending with ``/``; ``None`` when
    the profile names no server."""
    if not settings.server:
        return None
    base = settings.server.rstrip("/") + "/"
    prefix = settings.base_href.strip("/")
    return f"{base}{prefix}/" if prefix else base


def workflow_page_url(base_url: str, namespace: str, name: str, *, quote_name: bool = True) -> str:
    """Workflow ``name``'s page in the Argo UI under ``base_url``; ``quote_name=False`` keeps a
    template tag such as ``{{workflow.name}}`` as it is, for Argo to replace."""
    shown = quote(name) if quote_name else name
    return urljoin(base_url, f"workflows/{quote(namespace)}/{shown}")
