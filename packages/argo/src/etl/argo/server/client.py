"""The Argo Server client: a :class:`~etl.core.runners.WorkflowRunner` over Hera's service.

Hera 7.1.0's ``WorkflowsService`` does create, get, list, stop, retry, delete and lint. Around it:

- the server URL always ends with ``/``: Hera ``urljoin``-s ``api/v1/...`` onto it, which drops a
  path prefix (``https://host/argo``) that lacks the trailing slash;
- manifests are parsed into a fresh Hera model on each submit, so the caller's dict is never
  changed (Hera's ``Workflow.create()`` renames the object it is given);
- logs and watch, which Hera cannot do, go through :mod:`etl.argo.server.streams`;
- every failure becomes a one-line etl error (:func:`etl.argo.server.transport.argo_errors`).

``hera`` is imported only when a client is built, so ``etl --help`` never loads it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urljoin

import requests

from etl.argo.server.status import status_from_workflow
from etl.argo.server.streams import iter_workflow_events, iter_workflow_logs
from etl.argo.server.transport import ArgoHttpError, ArgoSession, ArgoStreamError, argo_errors
from etl.core.errors import InputError, ProfileError
from etl.core.profiles.model import ArgoSettings, Profile
from etl.core.runners import (
    LogLine,
    SubmittedWorkflow,
    WorkflowRunner,
    WorkflowStatus,
)

__all__ = ["ArgoClient", "argo_base_url"]


def argo_base_url(settings: ArgoSettings) -> str:
    """The Argo Server's base URL, base path included, always ending with ``/``.

    Raises:
        ProfileError: the profile names no Argo Server.
    """
    if not settings.server:
        raise ProfileError(
            "no Argo Server configured: set argo.server in the profile, or ETL_ARGO_SERVER "
            "(a URL) or ARGO_SERVER (host:port)"
        )
    base = settings.server.rstrip("/") + "/"
    prefix = settings.base_href.strip("/")
    return f"{base}{prefix}/" if prefix else base


class ArgoClient(WorkflowRunner):
    """Submits and follows workflows on an Argo Server.

    Args:
        settings: the profile's ``argo`` section (server, namespace, token, verify_tls, base_href).
        poll_interval: seconds between status polls when the server's event stream is unavailable.
    """

    kind = "argo"

    def __init__(self, settings: ArgoSettings, *, poll_interval: float = 2.0) -> None:
        from hera.workflows.service import WorkflowsService

        self.base_url = argo_base_url(settings)
        self.namespace = settings.namespace
        self.poll_interval = poll_interval
        self._session = ArgoSession(verify=settings.verify_tls)
        self._service = WorkflowsService(
            host=self.base_url,
            verify_ssl=settings.verify_tls,
            token=settings.token,
            namespace=settings.namespace,
            session=self._session,
        )
        token = self._service.token
        self._headers = {"Authorization": token} if token else {}

    @classmethod
    def from_profile(cls, profile: Profile) -> ArgoClient:
        """The client for ``profile.argo``."""
        return cls(profile.argo)

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()

    def __enter__(self) -> ArgoClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def workflow_url(self, name: str, namespace: str | None = None) -> str:
        """The workflow's page in the Argo UI."""
        namespace = namespace or self.namespace
        return urljoin(self.base_url, f"workflows/{quote(namespace)}/{quote(name)}")

    def submit(self, manifest: Mapping[str, Any]) -> SubmittedWorkflow:
        """Create the workflow; the manifest's ``metadata.namespace`` wins over the profile's."""
        from hera.workflows.models import WorkflowCreateRequest

        workflow = self._workflow_model(manifest)
        namespace = workflow.metadata.namespace or self.namespace
        workflow.metadata.namespace = namespace
        request = WorkflowCreateRequest(namespace=namespace, workflow=workflow)
        with argo_errors(self.base_url, namespace=namespace):
            created = self._service.create_workflow(request, namespace=namespace)
        status = self._status(created, namespace)
        return SubmittedWorkflow(
            name=status.name,
            namespace=status.namespace,
            runner=self.kind,
            status=status.phase.value,
            url=self.workflow_url(status.name, status.namespace),
        )

    def lint(self, manifest: Mapping[str, Any]) -> None:
        """Have the server check the manifest without creating anything.

        Raises:
            RemoteError: the server rejected the manifest (its reason in the message).
        """
        from hera.workflows.models import WorkflowLintRequest

        workflow = self._workflow_model(manifest)
        namespace = workflow.metadata.namespace or self.namespace
        request = WorkflowLintRequest(namespace=namespace, workflow=workflow)
        with argo_errors(self.base_url, namespace=namespace):
            self._service.lint_workflow(request, namespace=namespace)

    def get(self, name: str) -> WorkflowStatus:
        """The workflow's current status."""
        with argo_errors(self.base_url, namespace=self.namespace, name=name):
            workflow = self._service.get_workflow(name, namespace=self.namespace)
        return self._status(workflow, self.namespace)

    def manifest(self, name: str) -> Mapping[str, Any]:
        """The workflow as the server holds it (``metadata``, ``spec`` and ``status``)."""
        with argo_errors(self.base_url, namespace=self.namespace, name=name):
            workflow = self._service.get_workflow(name, namespace=self.namespace)
        data: dict[str, Any] = workflow.model_dump(by_alias=True, exclude_none=True, mode="json")
        return data

    def list(self, limit: int | None = None) -> Sequence[WorkflowStatus]:
        """The namespace's workflows as the server orders them, at most ``limit``."""
        with argo_errors(self.base_url, namespace=self.namespace):
            found = self._service.list_workflows(
                namespace=self.namespace, limit=str(limit) if limit else None
            )
        statuses = [self._status(workflow, self.namespace) for workflow in found.items or []]
        return statuses[:limit] if limit else statuses

    def stop(self, name: str) -> WorkflowStatus:
        """Stop the workflow: running steps end, exit handlers still run."""
        from hera.workflows.models import WorkflowStopRequest

        request = WorkflowStopRequest(name=name, namespace=self.namespace)
        with argo_errors(self.base_url, namespace=self.namespace, name=name):
            workflow = self._service.stop_workflow(name, request, namespace=self.namespace)
        return self._status(workflow, self.namespace)

    def retry(self, name: str) -> WorkflowStatus:
        """Run a Failed or Error workflow again from its failed steps."""
        from hera.workflows.models import WorkflowRetryRequest

        request = WorkflowRetryRequest(name=name, namespace=self.namespace)
        with argo_errors(self.base_url, namespace=self.namespace, name=name):
            workflow = self._service.retry_workflow(name, request, namespace=self.namespace)
        return self._status(workflow, self.namespace)

    def delete(self, name: str) -> None:
        """Delete the workflow and its pods."""
        with argo_errors(self.base_url, namespace=self.namespace, name=name):
            self._service.delete_workflow(name, namespace=self.namespace)

    def logs(self, name: str, *, follow: bool = False) -> Iterator[LogLine]:
        """The ``main`` containers' log lines, read as the server streams them."""
        with argo_errors(self.base_url, namespace=self.namespace, name=name):
            yield from iter_workflow_logs(
                self._session,
                self.base_url,
                self._headers,
                namespace=self.namespace,
                name=name,
                follow=follow,
            )

    def watch(self, name: str) -> Iterator[WorkflowStatus]:
        """The current status, then each change of phase until the workflow ends.

        Changes come from the server's event stream, opened again when it drops; when it is
        refused or malformed, the status is polled every ``poll_interval`` seconds instead.
        """
        status = self.get(name)
        yield status
        if status.finished:
            return
        phase = status.phase
        with argo_errors(self.base_url, namespace=self.namespace, name=name):
            for status in self._status_updates(name):
                if status.phase is not phase or status.finished:
                    yield status
                    phase = status.phase
                if status.finished:
                    return

    def _status_updates(self, name: str) -> Iterator[WorkflowStatus]:
        streaming = True
        while True:
            if streaming:
                streaming = yield from self._streamed_statuses(name)
            else:
                time.sleep(self.poll_interval)
            yield self.get(name)

    def _streamed_statuses(self, name: str) -> Generator[WorkflowStatus, None, bool]:
        """Statuses from the event stream; returns whether streaming is worth trying again."""
        received = False
        try:
            for workflow in iter_workflow_events(
                self._session, self.base_url, self._headers, namespace=self.namespace, name=name
            ):
                received = True
                yield status_from_workflow(workflow, namespace=self.namespace)
        except ArgoHttpError as exc:
            if exc.status in (401, 403):
                raise
            return False
        except ArgoStreamError:
            return False
        except requests.RequestException:  # dropped or timed out: worth a new stream if it worked
            return received
        return received

    def _status(self, workflow: Any, namespace: str) -> WorkflowStatus:
        data = workflow.model_dump(by_alias=True, exclude_none=True, mode="json")
        return status_from_workflow(data, namespace=namespace)

    @staticmethod
    def _workflow_model(manifest: Mapping[str, Any]) -> Any:
        """A new Hera ``Workflow`` model of a deep copy of ``manifest``.

        Hera's models type Kubernetes quantities (``cpu: 1``) as strings only, while Kubernetes
        reads a JSON number there just as well; numbers where a string is wanted are given as
        their decimal text, which Kubernetes reads the same way.
        """
        from hera.workflows.models import Workflow
        from pydantic import ValidationError

        if manifest.get("kind", "Workflow") != "Workflow":
            kind = manifest.get("kind")
            raise InputError(f"expected an Argo Workflow manifest, got kind {kind!r}")
        data = copy.deepcopy(dict(manifest))
        try:
            return Workflow.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors()
        if all(error["type"] == "string_type" and _is_number(error) for error in errors):
            for error in errors:
                _set_at(data, error["loc"], str(error["input"]))
            try:
                return Workflow.model_validate(data)
            except ValidationError as exc:
                errors = exc.errors()
        where = ".".join(str(part) for part in errors[0]["loc"])
        raise InputError(f"not a valid Argo Workflow manifest: {where}: {errors[0]['msg']}")


def _is_number(error: Any) -> bool:
    value = error["input"]
    return isinstance(value, int | float) and not isinstance(value, bool)


def _set_at(data: Any, location: tuple[int | str, ...], value: str) -> None:
    for part in location[:-1]:
        data = data[part]
    data[location[-1]] = value
