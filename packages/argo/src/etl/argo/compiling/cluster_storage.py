"""Storage a cluster's pods cannot see: local paths in a workflow compiled for Argo, refused.

A pod on a cluster has its own file system: a ``file://`` URI or a plain path in the storage it
lists or writes names a folder of the pod's image, not of the machine that compiled the workflow.
Listing a missing folder is not an error (it is empty), so such a run would load nothing and could
even succeed. :func:`check_cluster_storage` refuses them when the profile's runner is ``argo``:

- ``collections[i].asset_storage[j].uri`` and ``collections[i].chunk_storage.uri`` of the
  dataset, located in ``dataset.yaml``;
- the profile's ``workflow.state_storage``, when a collection has no ``chunk_storage`` of its own.

The local runner runs its pods on this machine (or mounts these folders into its containers), so
nothing is refused for it. ``workflow.code_storage`` is not checked here: a pod that cannot fetch
its bundle fails at once, with the URI in its message.
"""

from __future__ import annotations

from collections.abc import Sequence

from etl.core.errors import ProfileError
from etl.core.profiles.model import Profile, RunnerKind
from etl.core.storage.uris import BLOB_SCHEME, FILE_SCHEME, uri_scheme
from etl.dataset.loader import LoadedDataset
from etl.dataset.model import CollectionConfig

__all__ = ["check_cluster_storage", "is_local_storage"]

_FIX = "use a blob:// URI the pods can reach (docs/profiles.md, storage on a cluster)"


def is_local_storage(uri: str) -> bool:
    """Whether ``uri`` names a folder of this machine: ``file://`` or a plain path."""
    return uri.startswith(FILE_SCHEME) or (uri_scheme(uri) is None and not uri.startswith("$<<"))


def check_cluster_storage(
    dataset: LoadedDataset, collections: Sequence[CollectionConfig], profile: Profile
) -> None:
    """Refuse a local path in the storage of ``collections`` when ``profile`` runs on Argo.

    Raises:
        ConfigError: A dataset's asset or chunk storage is local (located in the dataset file).
        ProfileError: The profile's ``workflow.state_storage`` is local and a collection uses it.
    """
    if profile.runner is not RunnerKind.ARGO:
        return
    where = f"profile {profile.name!r} runs on Argo, whose pods cannot see this machine's files"
    for collection in collections:
        index = dataset.config.collections.index(collection)
        for j, entry in enumerate(collection.asset_storage):
            if is_local_storage(entry.uri):
                raise dataset.error(
                    ("collections", index, "asset_storage", j, "uri"),
                    f"{entry.uri} is a local path: {where}; {_FIX}",
                )
        if collection.chunk_storage is not None:
            if is_local_storage(collection.chunk_storage.uri):
                raise dataset.error(
                    ("collections", index, "chunk_storage", "uri"),
                    f"{collection.chunk_storage.uri} is a local path: {where}; {_FIX}",
                )
            continue
        state = profile.workflow.state_storage
        if state and is_local_storage(state):
            raise ProfileError(
                f"profile {profile.name!r}: workflow.state_storage: {state} is a local path, and "
                f"collection {collection.id!r} keeps its runs there (it has no chunk_storage): "
                f"{where}; etl profile edit {profile.name} --set "
                f"workflow.state_storage={BLOB_SCHEME}ACCOUNT/CONTAINER/PREFIX"
            )
