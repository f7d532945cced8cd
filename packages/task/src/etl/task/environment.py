"""What ``etl-task`` learns from its environment: the profile's services, and a bundle's storage.

The profile, secrets, storage and PgSTAC DSN are :class:`etl.core.profile_services.ProfileServices`'
(the application layer on this machine uses the same); a pod adds the chunk storage its bundle
names for each collection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etl.core.errors import TaskError
from etl.core.profile_services import ProfileServices

if TYPE_CHECKING:
    from etl.core.storage.base import Storage
    from etl.dataset.model import CollectionConfig

__all__ = ["TaskEnvironment"]


class TaskEnvironment(ProfileServices):
    """The task's view of its profile, secrets and services, read from environment variables."""

    def chunk_storage(self, collection: CollectionConfig) -> Storage:
        """The collection's chunk storage, where a run's chunks, results and records live.

        Raises:
            TaskError: The bundle names none (the compiler always writes one: a collection's own,
                else the profile's ``workflow.state_storage``).
        """
        if collection.chunk_storage is None:
            raise TaskError(f"collection {collection.id!r} has no chunk_storage")
        return self.storage(collection.chunk_storage.uri, collection.chunk_storage.token)
