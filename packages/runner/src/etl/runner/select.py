"""Which runner a profile's workflows go to: :func:`runner_for`."""

from __future__ import annotations

from etl.core.profiles.model import Profile, RunnerKind
from etl.core.profiles.store import BUILTIN_PROFILE
from etl.runner.workflow_runner import WorkflowRunner

__all__ = ["runner_for", "runner_kind"]


def runner_kind(profile: Profile) -> RunnerKind:
    """Where ``profile``'s workflows run: its ``runner``, except that the built-in ``local``
    profile talks to Argo when the environment names an Argo Server."""
    if profile.runner is RunnerKind.ARGO or (
        profile.name == BUILTIN_PROFILE and profile.argo.server
    ):
        return RunnerKind.ARGO
    return RunnerKind.LOCAL


def runner_for(profile: Profile) -> WorkflowRunner:
    """The runner of ``profile``: its Argo Server, or the local runner and its records.

    The built-in ``local`` profile talks to Argo when the environment names an Argo Server
    (``ETL_ARGO_SERVER`` or ``ARGO_SERVER``), so that a CI job needs nothing but variables.

    Raises:
        ProfileError: the profile's runner is argo but names no server.
    """
    if runner_kind(profile) is RunnerKind.ARGO:
        from etl.runner.argo_server.client import ArgoClient

        return ArgoClient.from_profile(profile)
    from etl.runner.local import local_runner_for

    return local_runner_for(profile)
