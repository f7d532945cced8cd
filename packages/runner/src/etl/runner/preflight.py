"""The preflight: can a run of this profile (and dataset) reach what it needs? Asked in seconds.

A service that is not listening used to be learned after minutes of retries inside the pods. The
preflight asks every service once, all at once, with short timeouts
(:data:`~etl.runner.preflight_checks.CHECK_TIMEOUT`), and lists every problem in one message:

- PgSTAC: reachable, the login accepted, migrated (the ``pgstac`` schema and its version);
- each storage container the run uses (asset, chunk, code and state storage; without a dataset,
  each account of the profile): reachable, the credential may list;
- each secret the pods read (``etl dataset secrets``' list), present in the profile's backend, in
  that backend's words (``ETL_SECRET_X`` or a key of the secrets file);
- on an Argo profile, the Argo Server (its version), and what cannot be checked from here: the
  pods' storage identity, the Kubernetes secret's keys, a database only the cluster reaches.

``etl dataset ... --submit`` runs it on the local runner before anything starts
(:func:`etl.runner.work.submit_work`); ``etl profile check`` runs it for any profile.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from etl.core.errors import EtlError, InputError, RemoteError
from etl.core.profiles.local_services import local_pgstac_dsn
from etl.core.profiles.model import Profile, RunnerKind, SecretsBackend
from etl.runner.preflight_checks import (
    CHECK_TIMEOUT,
    Check,
    CheckOutcome,
    check_account,
    check_argo,
    check_container,
    check_pgstac,
    check_secret,
    import_drivers,
    not_checked,
)
from etl.runner.select import runner_kind

if TYPE_CHECKING:
    from etl.argo.pod_secrets import PodSecret
    from etl.dataset.loader import LoadedDataset

__all__ = ["PREFLIGHT_SECONDS", "Check", "CheckOutcome", "PreflightReport", "preflight"]

PREFLIGHT_SECONDS = CHECK_TIMEOUT + 1.0
"""The preflight's own bound: a check without an answer by then is reported as such."""

_AGAIN = "`etl profile check` runs these checks again"
_BLOB = "blob://"


@dataclass(frozen=True)
class PreflightReport:
    """Every check of one preflight, in a stable order, and how long it took."""

    profile: str
    dataset: str | None
    checks: tuple[Check, ...]
    seconds: float

    @property
    def problems(self) -> list[Check]:
        """The checks that failed: a configuration problem or a service not reachable."""
        return [
            c for c in self.checks if c.outcome in (CheckOutcome.PROBLEM, CheckOutcome.UNREACHABLE)
        ]

    def raise_for_problems(self) -> None:
        """Raise one error listing every problem: :class:`InputError` (exit 2) when any is a
        configuration problem, else :class:`RemoteError` (exit 1: a service is not reachable).
        """
        problems = self.problems
        if not problems:
            return
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        message = (
            f"preflight of profile {self.profile!r} found {count}: "
            f"{'; '.join(str(c) for c in problems)} ({_AGAIN})"
        )
        if any(c.outcome is CheckOutcome.PROBLEM for c in problems):
            raise InputError(message)
        raise RemoteError(message)

    def to_json(self) -> dict[str, Any]:
        """The stable ``-o json`` shape."""
        return {
            "profile": self.profile,
            "dataset": self.dataset,
            "ok": not self.problems,
            "seconds": round(self.seconds, 3),
            "checks": [c.to_json() for c in self.checks],
        }


def preflight(
    profile: Profile,
    *,
    dataset: LoadedDataset | None = None,
    collections: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> PreflightReport:
    """Check what a run of ``profile`` (and ``dataset``'s ``collections``; default all) needs.

    Raises:
        ProfileError: The profile's secrets backend is misconfigured (no vault URL).
    """
    from etl.argo.pod_secrets import pod_secrets

    started = time.perf_counter()
    plan = _Plan(profile, os.environ if env is None else env)
    if plan.argo:
        plan.add(f"Argo Server {profile.argo.server}", lambda: check_argo(profile))
    plan.pgstac()
    plan.storage(dataset, collections)
    document = dataset.resolved_document() if dataset is not None else {}
    plan.secrets(pod_secrets(profile, document))
    import_drivers(argo=plan.argo, blob=plan.blob)
    checks = [*_run_all(plan.pending), *plan.notes]
    return PreflightReport(
        profile.name,
        dataset.config.id if dataset is not None else None,
        tuple(checks),
        time.perf_counter() - started,
    )


class _Plan:
    """The checks to run (``pending``) and what is known without asking (``notes``)."""

    def __init__(self, profile: Profile, env: Mapping[str, str]) -> None:
        from etl.core.secrets.resolver import secret_resolver_for

        self.profile = profile
        self.env = env
        self.argo = runner_kind(profile) is RunnerKind.ARGO
        self.resolver = secret_resolver_for(profile, env=env)
        # Whether this machine reads the secrets the pods read (not: a Kubernetes secret).
        self.here = not self.argo or profile.secrets.backend is SecretsBackend.KEYVAULT
        self.pending: list[tuple[str, Callable[[], Check]]] = []
        self.blob = False
        """Whether a check reads blob storage (the Azure SDK is imported for it)."""
        self.notes: list[Check] = []

    def add(self, subject: str, check: Callable[[], Check]) -> None:
        """Ask ``check``; on Argo a service this machine cannot reach is not a problem of the
        pods, which may reach it."""
        self.pending.append((subject, (lambda: _from_here(check())) if self.argo else check))

    def _secret(self, text: str) -> tuple[bool, str]:
        """``text`` with its secret references resolved; ``False`` when that cannot be done
        here (the secret's own check, or a note, says why)."""
        from etl.core.templating.secret_refs import find_secret_refs, resolve_secret_refs

        if not find_secret_refs(text):
            return True, text
        if not self.here:
            return False, text
        try:
            return True, resolve_secret_refs(text, self.resolver)
        except EtlError:
            return False, text

    def pgstac(self) -> None:
        """PgSTAC, at the DSN the pods use."""
        settings = self.profile.pgstac
        if settings.dsn_secret:
            if not self.here:
                why = f"its DSN is the secret {settings.dsn_secret!r}, which only the pods read"
                self.notes.append(not_checked("PgSTAC", why))
                return
            readable, dsn = self._secret(f"$<< secrets.{settings.dsn_secret} >>")
            if not readable:
                return
        elif settings.dsn:
            dsn = settings.dsn
            if dsn == local_pgstac_dsn():
                from etl.core.profiles.local_dsn import with_libpq_env

                dsn = with_libpq_env(dsn, self.env)
        else:
            missing = f"profile {self.profile.name!r} has no pgstac.dsn or pgstac.dsn_secret"
            self.notes.append(Check("PgSTAC", CheckOutcome.PROBLEM, missing))
            return
        self.add("PgSTAC", lambda: check_pgstac(dsn))

    def storage(self, dataset: LoadedDataset | None, collections: Sequence[str] | None) -> None:
        """Each blob container the run uses; without a dataset, each account of the profile."""
        profile = self.profile
        uris: dict[tuple[str, str | None], None] = {}
        if dataset is not None:
            uris |= dict.fromkeys(_dataset_storages(dataset, collections))
        for uri in (profile.workflow.code_storage, profile.workflow.state_storage):
            if uri:
                uris[(uri, None)] = None
        for uri, token in uris:
            if not uri.startswith(_BLOB):
                continue
            readable, sas = self._secret(token) if token else (True, None)
            if not readable:
                if not self.here:
                    self.notes.append(
                        not_checked(f"storage {uri}", "its token is a secret only the pods read")
                    )
                continue
            self.add(f"storage {uri}", partial(check_container, uri, profile, sas))
            self.blob = True
        if dataset is None:
            for account in profile.storage:
                self.add(f"storage account {account}", partial(check_account, account, profile))
                self.blob = True
        if self.argo and (uris or profile.storage):
            self.notes.append(
                not_checked(
                    "pods' storage credentials",
                    "pods reach storage with their workload identity (or the dataset's tokens), "
                    "not with the profile's credentials checked here",
                )
            )

    def secrets(self, secrets: list[PodSecret]) -> None:
        """Each secret the pods read, in the profile's backend."""
        if not secrets:
            return
        if not self.here:
            names = ", ".join(s.name for s in secrets)
            store, namespace = self.profile.secrets.kubernetes_secret, self.profile.argo.namespace
            self.notes.append(
                not_checked(
                    f"Kubernetes secret {namespace}/{store}",
                    f"its keys ({names}) cannot be checked from here: `kubectl -n {namespace} "
                    f"get secret {store} -o jsonpath='{{.data}}'` lists them",
                )
            )
            return
        for secret in secrets:
            check = partial(check_secret, secret.name, secret.used_by, self.resolver)
            self.pending.append((f"secret {secret.name}", check))


def _from_here(check: Check) -> Check:
    """On Argo the pods, not this machine, reach the service: not reaching it from here says
    nothing about them."""
    if check.outcome is not CheckOutcome.UNREACHABLE:
        return check
    return not_checked(check.subject, f"{check.detail} from this machine (the pods may reach it)")


def _dataset_storages(
    dataset: LoadedDataset, collections: Sequence[str] | None
) -> list[tuple[str, str | None]]:
    """The asset and chunk storages of the collections a run uses, with their tokens."""
    found: list[tuple[str, str | None]] = []
    for collection in dataset.select_collections(list(collections or [])):
        found += [(a.uri, a.token) for a in collection.asset_storage]
        if collection.chunk_storage is not None:
            found.append((collection.chunk_storage.uri, collection.chunk_storage.token))
    return found


def _run_all(pending: list[tuple[str, Callable[[], Check]]]) -> list[Check]:
    """Run every check at once, each on a daemon thread; a check still running after
    :data:`PREFLIGHT_SECONDS` is reported as not answering (its thread is left behind)."""
    results: list[Check | None] = [None] * len(pending)

    def run(index: int, check: Callable[[], Check]) -> None:
        try:
            results[index] = check()
        except Exception as exc:  # a bug in a check must not read as a service not answering
            results[index] = Check(
                pending[index][0], CheckOutcome.PROBLEM, f"check failed: {exc!r}"
            )

    threads = [
        threading.Thread(target=run, args=(i, check), daemon=True, name=f"preflight-{i}")
        for i, (_, check) in enumerate(pending)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + PREFLIGHT_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [
        result
        if result is not None
        else Check(subject, CheckOutcome.UNREACHABLE, f"no answer within {PREFLIGHT_SECONDS:g} s")
        for result, (subject, _) in zip(results, pending, strict=True)
    ]
