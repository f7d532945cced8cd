"""The checks of a preflight (:mod:`etl.runner.preflight`), each a function returning one outcome.

Each check asks one service one short question with short timeouts (:data:`CHECK_TIMEOUT`): PgSTAC
(connect, the ``pgstac`` schema and its version), a storage container (list one blob name: it
answers, the container exists and the credential may list; a missing one's message names the
account's containers with the closest names), a storage account (list one container), a secret (read it
from the profile's backend), the Argo Server (its version). Nothing is written anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from etl.core.errors import EtlError, MissingSecretError, SecretError

if TYPE_CHECKING:
    from etl.core.profiles.model import Profile
    from etl.core.secrets.resolver import SecretResolver

__all__ = [
    "CHECK_TIMEOUT",
    "Check",
    "CheckOutcome",
    "check_account",
    "check_argo",
    "check_container",
    "check_pgstac",
    "check_secret",
    "import_drivers",
    "not_checked",
    "quick",
]

CHECK_TIMEOUT = 5.0
"""Seconds a check waits to connect, and for an answer (one try, no retries): a stopped service
refuses at once; a busy one (Azurite on a loaded two-core machine) may take more than 2 s."""


class CheckOutcome(StrEnum):
    """How a check ended."""

    OK = "ok"
    PROBLEM = "problem"
    """The configuration is wrong (a missing secret, a refused credential): exit 2."""
    UNREACHABLE = "unreachable"
    """A service does not answer (not running, wrong port): exit 1."""
    NOT_CHECKED = "not-checked"
    """It cannot be checked from this machine (a pod's identity, a Kubernetes secret)."""


@dataclass(frozen=True)
class Check:
    """One thing checked: what (``PgSTAC``, ``storage blob://acct/data``, ``secret x``), how it
    ended and what was found."""

    subject: str
    outcome: CheckOutcome
    detail: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.detail}"

    def to_json(self) -> dict[str, str]:
        """The stable ``-o json`` shape."""
        return {"subject": self.subject, "outcome": self.outcome.value, "detail": self.detail}


def import_drivers(*, argo: bool, blob: bool) -> None:
    """Import what the checks use (psycopg; the Azure SDK when a check reads blob storage; Hera
    on Argo): seconds on a busy machine, which must not count against the checks' answers."""
    import psycopg  # noqa: F401

    if blob:
        import etl.core.storage.blob
    if argo:
        import etl.runner.argo_server.client  # noqa: F401


def _reason(text: str) -> str:
    """Why a connection failed, in a few words, out of a driver's or SDK's message."""
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused"
    if "timed out" in lowered or "timeout" in lowered:
        return f"no answer within {CHECK_TIMEOUT:g} s"
    if "name or service not known" in lowered or "nodename nor servname" in lowered:
        return "unknown host"
    if "failed to resolve" in lowered or "could not translate host name" in lowered:
        return "unknown host"
    return text.strip().splitlines()[0] if text.strip() else "no answer"


def check_pgstac(dsn: str) -> Check:
    """Connect to PgSTAC and read its version: reachable, the login accepted, migrated."""
    import psycopg

    from etl.core.profiles.redaction import redact_dsn
    from etl.pgstac.errors import is_transient_database_error

    subject = f"PgSTAC {redact_dsn(dsn)}"
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=int(CHECK_TIMEOUT)) as conn:
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'pgstac')"
            ).fetchone()
            if not (row and row[0]):
                return Check(
                    subject,
                    CheckOutcome.PROBLEM,
                    "the database has no pgstac schema: migrate it with "
                    "`pypgstac migrate --dsn DSN` (docs/pgstac.md)",
                )
            version = conn.execute("SELECT pgstac.get_version()").fetchone()
    except psycopg.OperationalError as exc:
        text = str(exc)
        if is_transient_database_error(exc):
            return Check(subject, CheckOutcome.UNREACHABLE, f"not reachable: {_reason(text)}")
        return Check(subject, CheckOutcome.PROBLEM, f"refused: {text.strip().splitlines()[-1]}")
    except psycopg.Error as exc:
        return Check(subject, CheckOutcome.PROBLEM, f"cannot read its pgstac version: {exc}")
    return Check(subject, CheckOutcome.OK, f"reachable, pgstac {version[0] if version else '?'}")


def _storage_outcome(subject: str, exc: EtlError) -> Check:
    if exc.transient:
        return Check(subject, CheckOutcome.UNREACHABLE, f"not reachable: {_reason(str(exc))}")
    return Check(subject, CheckOutcome.PROBLEM, str(exc))


def check_container(uri: str, profile: Profile, sas_token: str | None) -> Check:
    """List one blob name under ``uri`` with the credentials a run of ``profile`` uses there."""
    from etl.core.storage.blob import BlobStorage
    from etl.core.storage.opening import open_storage

    subject = f"storage {uri}"
    try:
        storage = open_storage(uri, profile=quick(profile), sas_token=sas_token)
        assert isinstance(storage, BlobStorage)
        storage.probe()
    except EtlError as exc:
        # A missing container (a misspelt name: the message says which of the account's names
        # are close) is permanent, as in _storage_outcome; no retry creates it.
        return _storage_outcome(subject, exc)
    return Check(subject, CheckOutcome.OK, f"reachable with {storage.credential_source}")


def check_account(account: str, profile: Profile) -> Check:
    """List one container of a profile's account: it answers, and (with a key) the key is right."""
    from azure.core.exceptions import AzureError, HttpResponseError

    from etl.core.storage.blob_clients import resolve_credentials, service_client

    subject = f"storage account {account}"
    try:
        credentials = resolve_credentials(account, profile=profile)
        client = service_client(account, credentials, quick(profile).storage_timeouts)
        next(client.list_containers(results_per_page=1).by_page(), None)
    except EtlError as exc:
        return _storage_outcome(subject, exc)
    except HttpResponseError as exc:
        if exc.status_code in (401, 403) and not (credentials.key or credentials.connection_string):
            return Check(
                subject,
                CheckOutcome.OK,
                f"reachable at {credentials.account_url}; {credentials.source} may not list its "
                "containers (a dataset's containers are checked with -d DATASET)",
            )
        code = getattr(exc, "error_code", None) or exc.reason
        return Check(
            subject,
            CheckOutcome.PROBLEM,
            f"{credentials.account_url} refused {credentials.source}: HTTP {exc.status_code} "
            f"{code}",
        )
    except AzureError as exc:
        return Check(subject, CheckOutcome.UNREACHABLE, f"not reachable: {_reason(str(exc))}")
    return Check(subject, CheckOutcome.OK, f"reachable at {credentials.account_url}")


def quick(profile: Profile) -> Profile:
    """``profile`` with the preflight's storage timeouts: one try, :data:`CHECK_TIMEOUT` each."""
    timeouts = profile.storage_timeouts.model_copy(
        update={"connect": CHECK_TIMEOUT, "read": CHECK_TIMEOUT, "retries": 0}
    )
    return profile.model_copy(update={"storage_timeouts": timeouts})


def check_secret(name: str, used_by: tuple[str, ...], resolver: SecretResolver) -> Check:
    """Read secret ``name`` from the backend: present, missing, or the backend unreadable."""
    subject = f"secret {name}"
    try:
        resolver.get(name)
    except MissingSecretError as exc:
        return Check(subject, CheckOutcome.PROBLEM, f"{exc} (used by {', '.join(used_by)})")
    except SecretError as exc:
        outcome = CheckOutcome.UNREACHABLE if exc.transient else CheckOutcome.PROBLEM
        return Check(subject, outcome, str(exc))
    return Check(subject, CheckOutcome.OK, "set")


def check_argo(profile: Profile) -> Check:
    """Ask the Argo Server its version (at least v3.6)."""
    from etl.runner.argo_server.client import ArgoClient

    subject = f"Argo Server {profile.argo.server}"
    try:
        version = ArgoClient.from_profile(profile).check_version()
    except EtlError as exc:
        outcome = CheckOutcome.UNREACHABLE if exc.transient else CheckOutcome.PROBLEM
        return Check(subject, outcome, str(exc))
    return Check(subject, CheckOutcome.OK, f"reachable, Argo Workflows {version}")


def not_checked(subject: str, why: str) -> Check:
    """What cannot be checked from here, and why."""
    return Check(subject, CheckOutcome.NOT_CHECKED, why)
