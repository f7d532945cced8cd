"""The application layer of ``etl dataset stream`` on a cluster: one call per command line.

:func:`run_stream` compiles each chosen collection's KEDA objects
(:func:`etl.argo.compiling.compile_stream`) and, as asked, returns them to print, applies them
through the Kubernetes API server after uploading the code bundle the pods read (the one upload
path, :func:`etl.runner.work.upload_work`), or deletes them (docs/streaming.md, "On a cluster").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from etl.core.errors import InputError
from etl.core.profiles.model import Profile, RunnerKind
from etl.runner.work import PreparedWork, upload_work

if TYPE_CHECKING:
    from etl.dataset.loader import LoadedDataset
    from etl.runner.argo_server.kubernetes import Applied

__all__ = ["LOCAL_STREAM", "StreamAction", "StreamWork", "prepare_stream", "run_stream"]

LOCAL_STREAM = (
    "a local-runner profile has no cluster to run KEDA's objects on (its --submit runs the "
    "consumers here): use a profile with runner argo and a kubernetes.api_server"
)


class StreamAction(StrEnum):
    """What ``etl dataset stream`` does with the compiled objects."""

    PRINT = "print"
    SUBMIT = "submit"
    DELETE = "delete"


@dataclass(frozen=True)
class StreamWork:
    """What :func:`run_stream` did.

    Attributes:
        prepared: The KEDA objects (``manifest``: a ``v1`` ``List`` holding them, which
            ``kubectl apply -f`` takes too) and the code bundle their pods read.
        applied: Each object applied or deleted, in the order it was.
    """

    prepared: PreparedWork
    applied: tuple[Applied, ...] = ()


def prepare_stream(
    dataset: LoadedDataset, collections: tuple[str, ...] | None, profile: Profile
) -> PreparedWork:
    """Plan the code bundle and compile the KEDA objects of the collections' streams.

    Raises:
        InputError: An unknown collection, or one without ``events``.
        ConfigError: The dataset cannot compile (located).
        ProfileError: The profile cannot give the pods their environment.
    """
    from etl.argo.bundle import plan_bundle
    from etl.argo.compiling.stream import compile_stream

    bundle = plan_bundle(dataset, profile)
    items = compile_stream(dataset, collections, profile, bundle=bundle)
    manifest = {"apiVersion": "v1", "kind": "List", "items": items}
    return PreparedWork(manifest, bundle=bundle, dataset=dataset, collections=collections)


def run_stream(
    load: Callable[[], LoadedDataset],
    collections: tuple[str, ...] | None,
    profile: Profile,
    *,
    action: StreamAction = StreamAction.PRINT,
    report: Callable[[str], None] = lambda line: None,
) -> StreamWork:
    """Compile the streams of ``collections`` (``None``: every one with ``events``) and print,
    submit or delete them.

    Raises:
        InputError: ``--submit``/``--delete`` on a local-runner profile, an unknown collection,
            one without events, a refusal of the API server (a token, a missing CRD).
        ConfigError: The dataset cannot compile (located).
        ProfileError: No ``kubernetes.api_server``, or a refused token.
        StorageError: The bundle's upload failed (nothing was applied).
        RemoteError: The API server failed or could not be reached, after retries.
    """
    if action is not StreamAction.PRINT and profile.runner is RunnerKind.LOCAL:
        raise InputError(f"etl dataset stream --{action}: {LOCAL_STREAM}")
    prepared = prepare_stream(load(), collections, profile)
    if action is StreamAction.PRINT:
        return StreamWork(prepared)
    from etl.runner.argo_server.kubernetes import KubernetesClient

    items = prepared.manifest["items"]
    client = KubernetesClient(profile)
    applied: list[Applied] = []
    try:
        if action is StreamAction.SUBMIT:
            upload_work(prepared, profile, report=report)
        # each TriggerAuthentication is applied before the ScaledJob naming it, deleted after it
        submit = action is StreamAction.SUBMIT
        call = client.apply if submit else client.delete
        for manifest in items if submit else items[::-1]:
            applied.append(call(manifest))
            report(applied[-1].line())
    finally:
        client.close()
    return StreamWork(prepared, tuple(applied))
