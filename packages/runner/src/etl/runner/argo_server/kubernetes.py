"""The Kubernetes API server, for the KEDA objects of ``etl dataset stream --submit | --delete``.

Objects are created or updated by server-side apply (``PATCH .../NAME?fieldManager=etl&
fieldValidation=Strict`` with ``application/apply-patch+yaml``: the same call creates and updates,
and a field the CRD does not know is refused instead of pruned) and removed by ``DELETE``. The
HTTP session and the mapping of failures are the Argo Server client's
(:mod:`etl.runner.argo_server.transport`); on top of it:

- a refused token (401/403) is a :class:`~etl.core.errors.ProfileError` (exit 2) naming
  ``kubernetes.token``; a missing resource type or namespace (404) and a refused object
  (400/409/422) are :class:`~etl.core.errors.InputError`\\ s: none is retried;
- a transient failure (5xx, 429, no connection, no answer in time) is tried again after
  :data:`RETRY_DELAYS`, then reported (:class:`~etl.core.errors.RemoteError`, exit 1).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from etl.core.env_names import KUBERNETES_TOKEN_ENV
from etl.core.errors import InputError, ProfileError, RemoteError
from etl.core.profiles.model import Profile
from etl.runner.argo_server.transport import ArgoHttpError, ArgoSession, argo_errors

__all__ = [
    "APPLY_CONTENT_TYPE",
    "FIELD_MANAGER",
    "RETRY_DELAYS",
    "Applied",
    "KubernetesClient",
]

FIELD_MANAGER = "etl"
"""The field manager of etl's server-side applies: etl owns the fields it writes."""
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0)
"""Seconds before the second and third tries of a call that failed transiently."""
SERVICE = "Kubernetes API server"
_PLURALS = {"ScaledJob": "scaledjobs", "TriggerAuthentication": "triggerauthentications"}


@dataclass(frozen=True)
class Applied:
    """One object applied or deleted: ``kind/name`` in ``namespace``, and what happened
    (``created``, ``updated``, ``deleted`` or ``absent``)."""

    kind: str
    name: str
    namespace: str
    action: str

    def line(self) -> str:
        """``scaledjob/NAME created in namespace NS``."""
        return f"{self.kind.lower()}/{self.name} {self.action} in namespace {self.namespace}"


class KubernetesClient:
    """Applies and deletes objects through the API server the profile's ``kubernetes`` names.

    Raises:
        ProfileError: The profile names no ``kubernetes.api_server``.
    """

    def __init__(self, profile: Profile, *, sleep: Callable[[float], None] = time.sleep) -> None:
        settings = profile.kubernetes
        if not settings.api_server:
            raise ProfileError(
                f"profile {profile.name!r} has no kubernetes.api_server: etl profile edit "
                f"{profile.name} --set kubernetes.api_server=https://HOST:443 (and kubernetes.token"
                f" or {KUBERNETES_TOKEN_ENV})"
            )
        self.server = settings.api_server
        self._profile = profile.name
        self._sleep = sleep
        self._session = ArgoSession(
            verify=str(settings.ca_file) if settings.ca_file else settings.verify_tls
        )
        if settings.token:
            self._session.headers["Authorization"] = f"Bearer {settings.token}"

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()

    def _url(self, manifest: Mapping[str, Any]) -> tuple[str, str, str]:
        """The object's URL, kind and namespace."""
        kind = str(manifest["kind"])
        metadata = manifest["metadata"]
        namespace = str(metadata["namespace"])
        path = f"/apis/{manifest['apiVersion']}/namespaces/{namespace}/{_PLURALS[kind]}"
        return f"{self.server}{path}/{metadata['name']}", kind, namespace

    def apply(self, manifest: Mapping[str, Any]) -> Applied:
        """Create ``manifest``'s object, or update the one of its name (server-side apply)."""
        url, kind, namespace = self._url(manifest)
        response = self._call(
            "PATCH",
            url,
            params={"fieldManager": FIELD_MANAGER, "fieldValidation": "Strict", "force": "true"},
            data=json.dumps(manifest).encode(),  # JSON is YAML
            headers={"Content-Type": APPLY_CONTENT_TYPE},
        )
        action = "created" if response is not None and response.status_code == 201 else "updated"
        return Applied(kind, str(manifest["metadata"]["name"]), namespace, action)

    def delete(self, manifest: Mapping[str, Any]) -> Applied:
        """Delete ``manifest``'s object (and the Jobs KEDA started for it); absent is no error."""
        url, kind, namespace = self._url(manifest)
        response = self._call("DELETE", url, params={"propagationPolicy": "Background"})
        action = "deleted" if response is not None else "absent"
        return Applied(kind, str(manifest["metadata"]["name"]), namespace, action)

    def _call(self, method: str, url: str, **kwargs: Any) -> requests.Response | None:
        """The answer, ``None`` for a 404 to a ``DELETE``; transient failures tried again."""
        for delay in (*RETRY_DELAYS, None):
            try:
                with argo_errors(self.server, namespace="", service=SERVICE):
                    try:
                        return self._session.request(method, url, **kwargs)
                    except ArgoHttpError as exc:
                        if exc.status == 404 and method == "DELETE":
                            return None
                        self._raise_permanent(exc)
                        raise
            except RemoteError as exc:
                if not exc.transient or delay is None:
                    raise
                self._sleep(delay)
        raise AssertionError("unreachable")  # the last try returns or raises

    def _raise_permanent(self, exc: ArgoHttpError) -> None:
        """Raise the one-line input error of a refusal no retry cures."""
        where = f"the {SERVICE} at {self.server}"
        if exc.status in (401, 403):
            raise ProfileError(
                f"{where} refused the token of profile {self._profile!r} ({exc.status}): "
                f"{exc.message} (kubernetes.token: a service account that may apply KEDA's "
                "scaledjobs and triggerauthentications in the namespace; docs/streaming.md)"
            )
        if exc.status == 404:
            raise InputError(
                f"{where} answered 404: {exc.message} (is KEDA installed, and does the namespace "
                "exist? docs/streaming.md#on-a-cluster)"
            )
        if exc.status in (400, 409, 422):
            raise InputError(f"{where} refused the object ({exc.status}): {exc.message}")
