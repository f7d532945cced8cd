"""The ``dataset.yaml`` model: what a dataset is made of, validated with pydantic.

The shape follows PCTasks' ``dataset.yaml`` (``DatasetConfig`` → ``CollectionConfig`` →
``StorageConfig`` → ``ChunksConfig`` → ``ChunkOptions``/``SplitConfig``) so that a PCTasks dataset
moves over by rewriting ``${{ }}`` to ``$<< >>``. Unlike PCTasks, every model forbids unknown keys.
The models describe a dataset *after* templating: a ``$<< ... >>`` expression has already been
replaced by its value (secrets stay references, ``$<< secrets.NAME >>``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
)

from etl.core.notifications.targets import NotificationTarget
from etl.core.pod_contract import StacValidationMode
from etl.core.queues.event_types import EventKind
from etl.core.run_options import MAX_REMOVALS_PATTERN, MissingItems
from etl.dataset.field_types import (
    ID_PATTERN,
    ArgName,
    ClassReference,
    ConfigModel,
    EnvName,
    EnvValue,
    LocalFile,
    QueueUri,
    Regex,
    StorageUri,
    UtcTime,
)
from etl.dataset.task_config import (
    ResourceQuantities,
    TaskConfig,
    TaskName,
    TaskResources,
    Toleration,
)

__all__ = [
    "MAX_REMOVALS_PATTERN",
    "AssetStorageConfig",
    "BlobHrefs",
    "ChunkOptions",
    "ChunkStorageConfig",
    "ChunksConfig",
    "CodeConfig",
    "CollectionConfig",
    "DatasetConfig",
    "EventKind",
    "EventsConfig",
    "ExtentSource",
    "MissingItems",
    "ResourceQuantities",
    "SplitConfig",
    "StacValidation",
    "TaskConfig",
    "TaskName",
    "TaskResources",
    "Toleration",
    "dataset_json_schema",
]


class SplitConfig(ConfigModel):
    """One split: list the folders ``depth`` levels under ``prefix``; each folder is listed apart."""

    depth: NonNegativeInt = Field(
        description="How many folder levels under `prefix` to split at; each folder found at that "
        "depth is listed for assets by its own create-chunks pass (0: the prefix itself)."
    )
    prefix: str | None = Field(
        None,
        description="Path under the storage `uri` to split from (default: the `uri` itself).",
    )
    folder_matches: Regex | None = Field(
        None, description="Regular expression a split folder's path must contain (`re.search`)."
    )


class ChunkOptions(ConfigModel):
    """Which assets of a storage location are listed, and how many go in one chunk file.

    Paths are relative to the storage ``uri``, with ``/`` separators; an asset's depth is the
    number of folders above it there (``a.tif`` is at depth 0, ``x/y/a.tif`` at depth 2).
    """

    chunk_length: PositiveInt = Field(
        1000,
        description="Most asset URIs in one chunk file (one pod task processes one chunk); the "
        "default keeps a chunk to minutes of work (docs/chunking.md).",
    )
    name_starts_with: str | None = Field(
        None,
        description="Only assets under this folder of the storage (`2020` and `2020/` are the same).",
    )
    since: UtcTime | None = Field(
        None,
        description="Only assets modified at or after this time (ISO 8601; no zone means UTC).",
    )
    extensions: list[str] | None = Field(
        None,
        description="Only assets whose name's last extension is one of these (`.tif` or `tif`; "
        "case-insensitive).",
    )
    ends_with: str | None = Field(None, description="Only assets whose name ends with this.")
    matches: Regex | None = Field(
        None,
        description="Only assets whose name contains a match of this regular expression "
        "(`re.search`); with `match_full_path`, the whole relative path.",
    )
    match_full_path: bool = Field(
        False,
        description="Apply `matches` and `ends_with` to the whole relative path, not only the name.",
    )
    limit: PositiveInt | None = Field(
        None, description="List at most this many assets (per storage location)."
    )
    min_depth: NonNegativeInt | None = Field(
        None, description="Only assets at least this deep (`x/a.tif` is at depth 1)."
    )
    max_depth: NonNegativeInt | None = Field(
        None,
        description="Only assets at most this deep; `0` means the storage root only.",
    )
    list_folders: bool = Field(
        False,
        description="List folders instead of files: each folder is one asset, and the filters "
        "apply to it (`x/y` is at depth 1).",
    )
    folder_matches: Regex | None = Field(
        None,
        description="Only assets whose folder path (`x/y` for `x/y/a.tif`) contains a match of "
        "this regular expression.",
    )
    folder_matches_at_depth: NonNegativeInt | None = Field(
        None,
        description="Apply `folder_matches` to the asset's ancestor folder at this depth only "
        "(`0`: the first folder) instead of its whole folder path.",
    )


class ChunksConfig(ConfigModel):
    """How the assets of one storage location are listed and grouped into chunks."""

    options: ChunkOptions = Field(default_factory=ChunkOptions, description="Listing filters.")
    splits: list[SplitConfig] | None = Field(
        None,
        description="Split the listing into parallel parts by folder; without splits the whole "
        "`uri` is listed by one pass.",
    )


class AssetStorageConfig(ConfigModel):
    """A storage location holding the assets items are made from."""

    uri: StorageUri = Field(
        description="Where the assets are: `blob://ACCOUNT/CONTAINER/PREFIX`, `file:///path` or a "
        "local path."
    )
    token: str | None = Field(
        None,
        description="SAS token for this location (usually `$<< secrets.NAME >>`); without one the "
        "profile's credentials for the account are used.",
    )
    chunks: ChunksConfig = Field(
        default_factory=ChunksConfig, description="How the assets are listed and chunked."
    )


class ChunkStorageConfig(ConfigModel):
    """Where run state (chunk files, item ndjson, results) is written."""

    uri: StorageUri = Field(
        description="`blob://ACCOUNT/CONTAINER/PREFIX`, `file:///path` or a local path."
    )
    token: str | None = Field(
        None, description="SAS token for this location (usually `$<< secrets.NAME >>`)."
    )


class ExtentSource(StrEnum):
    """Where a collection's extent in PgSTAC comes from after a run."""

    ITEMS = "items"
    TEMPLATE = "template"


def _yaml_off(value: Any) -> Any:
    """YAML reads a bare ``off`` as ``false``: take it as the mode ``off``."""
    return StacValidationMode.OFF.value if value is False else value


class StacValidation(ConfigModel):
    """Full STAC validation of a collection's items: the core item schema and each extension the
    item names in ``stac_extensions``, from the schemas cached in the task image (never fetched;
    docs/image.md). An item that fails fails its asset, like any other per-asset error."""

    mode: Annotated[StacValidationMode, BeforeValidator(_yaml_off)] = Field(
        StacValidationMode.OFF,
        description="`off`, `sample` (a share of the items, the same ones on every run) or "
        "`full` (every item); `etl dataset process-items --stac-validation` overrides it.",
    )
    sample_rate: float = Field(
        0.01,
        gt=0.0,
        le=1.0,
        description="The share of items `sample` validates (`0.01`: one in a hundred).",
    )


class EventsConfig(ConfigModel):
    """etl only. Storage events that keep the collection current as blobs are written and deleted
    ([streaming.md](streaming.md)): Event Grid puts each event into a Storage Queue, etl turns them
    into items. The asset storage and its chunk options decide which blobs are the collection's
    assets, as a batch listing does; other events are acknowledged and counted as skipped.
    `etl dataset stream` runs the consumers; `etl dataset send-events` puts events into the queue."""

    queue: QueueUri = Field(
        description="The Storage Queue that receives the collection's events, "
        "`queue://ACCOUNT/NAME` (the profile's `storage.ACCOUNT` credentials, as for `blob://`); "
        "messages that fail go to `NAME-poison`."
    )
    types: list[EventKind] = Field(
        [EventKind.CREATED, EventKind.DELETED],
        min_length=1,
        description="The events acted on: `created` (`Microsoft.Storage.BlobCreated`: the item "
        "is made or replaced) and `deleted` (`Microsoft.Storage.BlobDeleted`: the items the asset "
        "made are removed); others are skipped.",
    )
    batch_size: PositiveInt = Field(
        100,
        le=10000,
        description="Most events whose items are loaded into PgSTAC in one batch.",
    )
    max_wait: PositiveFloat = Field(
        10.0,
        le=3600,
        description="Seconds the first event of a partial batch waits for more before the batch is "
        "loaded anyway.",
    )
    max_deliveries: PositiveInt = Field(
        5,
        le=100,
        description="Deliveries of a failing message before it moves to the dead-letter queue "
        "`NAME-poison` with its error (a message that is no event, or that the dataset's code "
        "refuses, moves at once).",
    )
    visibility_timeout: PositiveInt = Field(
        300,
        ge=5,
        le=7 * 24 * 3600,
        description="Seconds a received message stays hidden from other consumers: longer than a "
        "batch takes at worst (making its items, loading them). A consumer that dies mid-batch "
        "leaves its messages to reappear after it, for another consumer.",
    )


class CollectionConfig(ConfigModel):
    """One STAC collection of the dataset, and how its items are made."""

    id: str = Field(pattern=ID_PATTERN, description="The STAC collection id.")
    collection_class: ClassReference = Field(
        alias="class",
        description="The `Collection` subclass that creates items, as `module:ClassName`; the "
        "module comes from `code.src` or the image.",
    )
    template: LocalFile | None = Field(
        None,
        description="The collection's STAC JSON: a folder holding `template.json` (and "
        "`description.md`), or a collection JSON file; usually `$<< local.path(./collection) >>`.",
    )
    asset_storage: list[AssetStorageConfig] = Field(
        description="Where the assets are; may be empty for a collection that is only ingested."
    )
    chunk_storage: ChunkStorageConfig | None = Field(
        None,
        description="Where run state goes (default: the profile's `workflow.state_storage`).",
    )
    max_failure_ratio: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="etl only. Share of a pod's assets whose `create_item` may fail (recorded in "
        "`errors/`) while the task still succeeds; above it the task fails so Argo retries it.",
    )
    stac_validation: StacValidation = Field(
        default_factory=StacValidation,
        description="etl only. Full STAC validation of the items (off by default); the "
        "structural checks always run.",
    )
    extent: ExtentSource = Field(
        ExtentSource.ITEMS,
        description="etl only. After each run the collection's extent in PgSTAC is its items' "
        "bbox and time span (`items`), or the template's (`template`), which is still replaced "
        "when it does not cover the items.",
    )
    missing_items: MissingItems = Field(
        MissingItems.KEEP,
        description="etl only. What a `process-items` run that lists every asset (no `--since`, "
        "no `--limit`) does with items whose asset is no longer listed: `keep`, `report` them, "
        "or `remove` them; `--report-missing`/`--remove-missing` override it.",
    )
    max_removals: str = Field(
        "10%",
        pattern=MAX_REMOVALS_PATTERN,
        description="etl only. Most items a run may remove, a count or a percentage of the items "
        "etl loaded into the collection; a run that would remove more removes nothing and fails "
        "(a failed or short listing). `--max-removals` overrides it.",
    )
    events: EventsConfig | None = Field(
        None,
        description="etl only. The storage events that keep the collection current "
        "([streaming.md](streaming.md)); none: only batch runs.",
    )
    notifications: list[NotificationTarget] | None = Field(
        None,
        description="etl only. More targets of this collection's item events, after the "
        "dataset's `notifications` ([notifications.md](notifications.md)).",
    )


class CodeConfig(ConfigModel):
    """User code shipped with the dataset: uploaded at submit, importable in every pod."""

    src: LocalFile = Field(
        description="A Python module file or package folder; usually `$<< local.path(./my.py) >>`."
    )
    requirements: LocalFile | None = Field(
        None, description="A requirements.txt installed with pip before the code runs."
    )
    pip_options: list[str] | None = Field(
        None, description="Extra `pip install` options, e.g. `['--index-url', 'https://...']`."
    )


class BlobHrefs(StrEnum):
    """What a ``blob://`` href in an item becomes before the item is written."""

    HTTPS = "https"
    BLOB = "blob"


class DatasetConfig(ConfigModel):
    """A dataset: its image, code and arguments, and the collections it makes."""

    id: str = Field(pattern=ID_PATTERN, description="The dataset id.")
    image: str | None = Field(
        None,
        description="Container image the tasks run in (default: the profile's `workflow.image`).",
    )
    code: CodeConfig | None = Field(None, description="User code uploaded with the dataset.")
    args: list[ArgName] | None = Field(
        None,
        description="Names of the arguments the dataset takes (`-a NAME=VALUE`), used as "
        "`$<< args.NAME >>`.",
    )
    environment: dict[EnvName, EnvValue] | None = Field(
        None,
        description="Environment variables of every task pod; values may be "
        "`$<< secrets.NAME >>` references: the pod's variable holds the secret's value (a "
        "`secretKeyRef` when the value is exactly one reference on Kubernetes secrets, otherwise "
        "resolved by `etl-task` before user code is imported; see [secrets.md](secrets.md)), the "
        "manifest only the reference.",
    )
    task_config: dict[str, dict[TaskName, TaskConfig]] | None = Field(
        None,
        description="Per collection id, then per task (`create-chunks`, `create-items`, "
        "`ingest-items`, `ingest-collection`): resources, retries, parallelism and placement.",
    )
    collections: list[CollectionConfig] = Field(
        min_length=1, description="The collections the dataset makes (at least one)."
    )
    blob_hrefs: BlobHrefs = Field(
        BlobHrefs.HTTPS,
        description="etl only. What a `blob://ACCOUNT/CONTAINER/PATH` href of an item's assets and "
        "links becomes: `https`, the blob's URL at the account's endpoint "
        "(`https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH`; the profile's "
        "`storage.ACCOUNT.account_url`, Azurite's locally), which STAC clients and GDAL open; "
        "`blob`, left as it is.",
    )
    notifications: list[NotificationTarget] | None = Field(
        None,
        description="etl only. Where CloudEvents of every item created, updated or deleted (and "
        "of every run's outcome) go: each entry one target, `queue: queue://ACCOUNT/NAME`, "
        "`event_grid: {endpoint, key}` or `webhook: URL` with `secret` "
        "([notifications.md](notifications.md)); the profile's `notifications` replace them.",
    )


def dataset_json_schema() -> dict[str, Any]:
    """The JSON schema of ``dataset.yaml`` (after templating), for editors and CI checks."""
    schema = DatasetConfig.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "etl dataset.yaml"
    return schema
