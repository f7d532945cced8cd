"""The Argo Server client: a :class:`~etl.runner.workflow_runner.WorkflowRunner` over Hera's service.

Hera 7.1.0's ``WorkflowsService`` does create, get, list, stop, retry, delete and lint, the cron
workflow calls (create, update, get, list, delete) and the server's version. Around it:

- the server URL always ends with ``/``: Hera ``urljoin``-s ``api/v1/...`` onto it, which drops a
  path prefix (``https://host/argo``) that lacks the trailing slash;
- manifests are parsed into a fresh Hera model on each submit, so the caller's dict is never
  changed (:mod:`etl.runner.argo_server.manifest_models`);
- logs and watch, which Hera cannot do, go through :mod:`etl.runner.argo_server.streams`;
- every failure becomes a one-line etl error (:func:`etl.runner.argo_server.transport.argo_errors`);
- before its first create the client asks the server's version (``GET /api/v1/version``) and
  refuses one older than v3.6 (:func:`etl.runner.argo_server.cron.check_server_version`);
- a workflow the client created is looked up in the namespace it was created in (the manifest's),
  which may not be the profile's;
- ``stop`` answers once the stop has taken effect (Argo's answer still says Running).

``hera`` is imported only when a client is built, so ``etl --help`` never loads it.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urljoin

import requests

from etl.core.env_names import ARGO_SERVER_ENV
from etl.core.errors import InputError, ProfileError
from etl.core.profiles.argo_urls import server_base_url, workflow_page_url
from etl.core.profiles.model import ArgoSettings, Profile
from etl.runner.argo_server.cron import CronApplied, CronSummary, check_server_version, cron_summary
from etl.runner.argo_server.manifest_models import manifest_model, model_dict
from etl.runner.argo_server.status import status_from_workflow
from etl.runner.argo_server.streams import iter_workflow_events, iter_workflow_logs
from etl.runner.argo_server.transport import (
    ArgoHttpError,
    ArgoSession,
    ArgoStreamError,
    argo_errors,
)
from etl.runner.workflow_runner import WorkflowRunner
from etl.runner.workflow_status import LogLine, SubmittedWorkflow, WorkflowStatus

__all__ = ["ArgoClient", "argo_base_url"]

_CONFLICT = 409
#: How long :meth:`ArgoClient.stop` waits for the stop to take effect, and how often it looks.
STOP_WAIT_SECONDS = 10.0
STOP_POLL_SECONDS = 0.5


def argo_base_url(settings: ArgoSettings) -> str:
    """The Argo Server's base URL, base path included, always ending with ``/``.

    Raises:
        ProfileError: the profile names no Argo Server.
    """
    base = server_base_url(settings)
    if base is None:
        raise ProfileError(
            f"no Argo Server configured: set argo.server in the profile, or {ARGO_SERVER_ENV} "
            "(a URL) or ARGO_SERVER (host:port)"
        )
    return base


class ArgoClient(WorkflowRunner):
    """Submits and follows workflows on an Argo Server.

    Args:
        settings: the profile's ``argo`` section (server, namespace, token, verify_tls, base_href).
        poll_interval: seconds between status polls when the server's event stream is unavailable.
        stop_wait: seconds :meth:`stop` waits for a stopped workflow to leave Running.
    """

    kind = "argo"

    def __init__(
        self,
        settings: ArgoSettings,
        *,
        poll_interval: float = 2.0,
        stop_wait: float = STOP_WAIT_SECONDS,
    ) -> None:
        from hera.workflows.service import WorkflowsService

        self.base_url = argo_base_url(settings)
        self.namespace = settings.namespace
        self.poll_interval = poll_interval
        self.stop_wait = stop_wait
        self.server_version: str | None = None
        # Workflows this client created, by name: the namespace they were created in.
        self._created_in: dict[str, str] = {}
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
        return workflow_page_url(self.base_url, namespace or self._namespace_of(name), name)

    def cron_workflow_url(self, name: str, namespace: str | None = None) -> str:
        """The cron workflow's page in the Argo UI."""
        namespace = namespace or self.namespace
        return urljoin(self.base_url, f"cron-workflows/{quote(namespace)}/{quote(name)}")

    def check_version(self) -> str:
        """The server's Argo Workflows version, asked once per client.

        Raises:
            RemoteError: the server is older than v3.6, refused the token or cannot be reached.
        """
        if self.server_version is None:
            with argo_errors(self.base_url, namespace=self.namespace):
                version = self._service.get_version().version
            check_server_version(self.base_url.rstrip("/"), version)
            self.server_version = version
        return self.server_version

    def submit(self, manifest: Mapping[str, Any]) -> SubmittedWorkflow:
        """Create the workflow; the manifest's ``metadata.namespace`` wins over the profile's.

        The workflow is then followed (:meth:`get`, :meth:`watch`, ...) in that namespace.
        """
        from hera.workflows.models import WorkflowCreateRequest

        workflow = manifest_model(manifest, "Workflow")
        namespace = workflow.metadata.namespace or self.namespace
        workflow.metadata.namespace = namespace
        request = WorkflowCreateRequest(namespace=namespace, workflow=workflow)
        self.check_version()
        with argo_errors(self.base_url, namespace=namespace):
            created = self._service.create_workflow(request, namespace=namespace)
        status = self._status(created, namespace)
        self._created_in[status.name] = status.namespace
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

        workflow = manifest_model(manifest, "Workflow")
        namespace = workflow.metadata.namespace or self.namespace
        request = WorkflowLintRequest(namespace=namespace, workflow=workflow)
        with argo_errors(self.base_url, namespace=namespace):
            self._service.lint_workflow(request, namespace=namespace)

    def get(self, name: str) -> WorkflowStatus:
        """The workflow's current status."""
        namespace = self._namespace_of(name)
        with argo_errors(self.base_url, namespace=namespace, name=name):
            workflow = self._service.get_workflow(name, namespace=namespace)
        return self._status(workflow, namespace)

    def manifest(self, name: str) -> Mapping[str, Any]:
        """The workflow as the server holds it (``metadata``, ``spec`` and ``status``)."""
        namespace = self._namespace_of(name)
        with argo_errors(self.base_url, namespace=namespace, name=name):
            workflow = self._service.get_workflow(name, namespace=namespace)
        return model_dict(workflow)

    def list(self, limit: int | None = None) -> Sequence[WorkflowStatus]:
        """The namespace's workflows as the server orders them, at most ``limit``."""
        with argo_errors(self.base_url, namespace=self.namespace):
            found = self._service.list_workflows(
                namespace=self.namespace, limit=str(limit) if limit else None
            )
        statuses = [self._status(workflow, self.namespace) for workflow in found.items or []]
        return statuses[:limit] if limit else statuses

    def stop(self, name: str) -> WorkflowStatus:
        """Stop the workflow: running steps end, exit handlers still run.

        The server answers before the controller has acted (its answer still says Running), so
        the status is read again until the workflow has ended, for at most :attr:`stop_wait`
        seconds; a workflow still ending then is returned as it stands (not finished).
        """
        from hera.workflows.models import WorkflowStopRequest

        namespace = self._namespace_of(name)
        request = WorkflowStopRequest(name=name, namespace=namespace)
        with argo_errors(self.base_url, namespace=namespace, name=name):
            workflow = self._service.stop_workflow(name, request, namespace=namespace)
        status = self._status(workflow, namespace)
        deadline = time.monotonic() + self.stop_wait
        while not status.finished and time.monotonic() < deadline:
            time.sleep(min(STOP_POLL_SECONDS, self.stop_wait))
            status = self.get(name)
        return status

    def retry(self, name: str) -> WorkflowStatus:
        """Run a Failed or Error workflow again from its failed steps."""
        from hera.workflows.models import WorkflowRetryRequest

        namespace = self._namespace_of(name)
        request = WorkflowRetryRequest(name=name, namespace=namespace)
        with argo_errors(self.base_url, namespace=namespace, name=name):
            workflow = self._service.retry_workflow(name, request, namespace=namespace)
        return self._status(workflow, namespace)

    def delete(self, name: str) -> None:
        """Delete the workflow and its pods."""
        namespace = self._namespace_of(name)
        with argo_errors(self.base_url, namespace=namespace, name=name):
            self._service.delete_workflow(name, namespace=namespace)

    def logs(self, name: str, *, follow: bool = False) -> Iterator[LogLine]:
        """The ``main`` containers' log lines, read as the server streams them."""
        namespace = self._namespace_of(name)
        with argo_errors(self.base_url, namespace=namespace, name=name):
            yield from iter_workflow_logs(
                self._session,
                self.base_url,
                self._headers,
                namespace=namespace,
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
        with argo_errors(self.base_url, namespace=self._namespace_of(name), name=name):
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
        namespace = self._namespace_of(name)
        try:
            for workflow in iter_workflow_events(
                self._session, self.base_url, self._headers, namespace=namespace, name=name
            ):
                received = True
                yield status_from_workflow(workflow, namespace=namespace)
        except ArgoHttpError as exc:
            if exc.status in (401, 403):
                raise
            return False
        except ArgoStreamError:
            return False
        except requests.RequestException:  # dropped or timed out: worth a new stream if it worked
            return received
        return received

    # Cron workflows ---------------------------------------------------------------------------

    def apply_cron(self, manifest: Mapping[str, Any]) -> CronApplied:
        """Create the ``CronWorkflow``, or update the one of that name (as ``kubectl apply``).

        The manifest's ``metadata.namespace`` wins over the profile's. A create the server
        refuses as AlreadyExists (409) becomes a get, for the current ``resourceVersion``, and an
        update with it.

        Raises:
            InputError: ``manifest`` is not a CronWorkflow with a name.
            RemoteError: the server is older than v3.6, or refused or failed the request.
        """
        from hera.workflows.models import CreateCronWorkflowRequest, UpdateCronWorkflowRequest

        cron = manifest_model(manifest, "CronWorkflow")
        namespace = cron.metadata.namespace or self.namespace
        cron.metadata.namespace = namespace
        name = cron.metadata.name
        if not name:
            raise InputError("a CronWorkflow manifest needs metadata.name")
        self.check_version()
        create = CreateCronWorkflowRequest(namespace=namespace, cron_workflow=cron)
        with argo_errors(self.base_url, namespace=namespace):
            try:
                self._service.create_cron_workflow(create, namespace=namespace)
                created = True
            except ArgoHttpError as exc:
                if exc.status != _CONFLICT:
                    raise
                created = False
        if not created:
            with argo_errors(self.base_url, namespace=namespace, name=name, kind="cron workflow"):
                current = self._service.get_cron_workflow(name, namespace=namespace)
                cron.metadata.resource_version = current.metadata.resource_version
                update = UpdateCronWorkflowRequest(
                    name=name, namespace=namespace, cron_workflow=cron
                )
                self._service.update_cron_workflow(name, update, namespace=namespace)
        return CronApplied(name, namespace, created, self.cron_workflow_url(name, namespace))

    def list_crons(self) -> Sequence[CronSummary]:
        """The namespace's cron workflows, by name."""
        with argo_errors(self.base_url, namespace=self.namespace):
            found = self._service.list_cron_workflows(namespace=self.namespace)
        summaries = [
            cron_summary(model_dict(cron), namespace=self.namespace) for cron in found.items or []
        ]
        return sorted(summaries, key=lambda summary: summary.name)

    def get_cron(self, name: str) -> CronSummary:
        """One cron workflow."""
        return cron_summary(self.cron_manifest(name), namespace=self.namespace)

    def cron_manifest(self, name: str) -> dict[str, Any]:
        """The cron workflow as the server holds it (``metadata``, ``spec``, ``status``)."""
        with argo_errors(self.base_url, namespace=self.namespace, name=name, kind="cron workflow"):
            cron = self._service.get_cron_workflow(name, namespace=self.namespace)
        return model_dict(cron)

    def delete_cron(self, name: str) -> None:
        """Delete the cron workflow (the workflows it started stay)."""
        with argo_errors(self.base_url, namespace=self.namespace, name=name, kind="cron workflow"):
            self._service.delete_cron_workflow(name, namespace=self.namespace)

    # ------------------------------------------------------------------------------------------

    def _namespace_of(self, name: str) -> str:
        """Where workflow ``name`` is: where this client created it, else the profile's."""
        return self._created_in.get(name, self.namespace)

    def _status(self, workflow: Any, namespace: str) -> WorkflowStatus:
        return status_from_workflow(model_dict(workflow), namespace=namespace)
