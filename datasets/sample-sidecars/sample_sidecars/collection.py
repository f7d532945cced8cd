"""The collection class of the sample-sidecars dataset: one scene sidecar in, one STAC item out."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from etl.dataset import Collection

if TYPE_CHECKING:
    import pystac

    from etl.core.storage import Storage

__all__ = ["COLLECTION_ID", "SampleSidecarsCollection", "SidecarError"]

COLLECTION_ID = "sample-sidecars"
_REQUIRED = ("scene_id", "acquired", "footprint", "platform", "data_file")


class SidecarError(ValueError):
    """A sidecar is not a scene record: not JSON, or a field is missing or malformed."""

    def __init__(self, asset_uri: str, problem: str) -> None:
        super().__init__(f"{asset_uri}: {problem}")
        self.asset_uri = asset_uri


class SampleSidecarsCollection(Collection):
    """Reads a scene sidecar (see ``records.py``) and makes its item.

    The item has the sidecar's id, footprint (geometry and bbox), acquisition time, platform,
    instrument, ground sample distance and cloud cover, and two assets: ``data`` (the CSV beside the
    sidecar) and ``metadata`` (the sidecar itself), and a ``collection`` link. Asset hrefs are URLs
    (``storage.href_of``): ``file://`` for local files, the blob's URL on blob storage.
    """

    @classmethod
    def create_item(cls, asset_uri: str, storage: Storage) -> pystac.Item:
        """The item of the sidecar at ``asset_uri``.

        Raises:
            SidecarError: The sidecar is not a valid scene record.
            StorageError: It cannot be read.
        """
        import pystac

        record = _read_record(asset_uri, storage)
        geometry = record["footprint"]
        properties: dict[str, Any] = {
            "platform": record["platform"],
            "instruments": [record.get("instrument", "unknown")],
        }
        if "gsd" in record:
            properties["gsd"] = float(record["gsd"])
        if "cloud_cover" in record:
            properties["sample:cloud_cover"] = float(record["cloud_cover"])
        item = pystac.Item(
            id=record["scene_id"],
            geometry=geometry,
            bbox=_bbox(geometry["coordinates"][0]),
            datetime=_datetime(record["acquired"], asset_uri),
            properties=properties,
            collection=COLLECTION_ID,
        )
        # STAC requires a collection link when ``collection`` is set; PgSTAC APIs rewrite it.
        item.add_link(
            pystac.Link(
                pystac.RelType.COLLECTION, "../collection.json", media_type=pystac.MediaType.JSON
            )
        )
        folder = asset_uri.rsplit("/", 1)[0]
        item.add_asset(
            "data",
            pystac.Asset(
                href=storage.href_of(f"{folder}/{record['data_file']}"),
                media_type="text/csv",
                roles=["data"],
                title="Per-band statistics",
            ),
        )
        item.add_asset(
            "metadata",
            pystac.Asset(
                href=storage.href_of(asset_uri),
                media_type=pystac.MediaType.JSON,
                roles=["metadata"],
                title="Scene sidecar",
            ),
        )
        return item


def _read_record(asset_uri: str, storage: Storage) -> dict[str, Any]:
    try:
        record = json.loads(storage.read_text(asset_uri))
    except json.JSONDecodeError as exc:
        raise SidecarError(asset_uri, f"not JSON: {exc}") from None
    if not isinstance(record, dict):
        raise SidecarError(asset_uri, "expected a JSON object")
    missing = [key for key in _REQUIRED if key not in record]
    if missing:
        raise SidecarError(asset_uri, f"missing {', '.join(missing)}")
    footprint = record["footprint"]
    if (
        not isinstance(footprint, dict)
        or footprint.get("type") != "Polygon"
        or not isinstance(footprint.get("coordinates"), list)
        or not footprint["coordinates"]
        or len(footprint["coordinates"][0]) < 4
    ):
        raise SidecarError(asset_uri, "footprint must be a GeoJSON Polygon with a closed ring")
    data_file = record["data_file"]
    if not isinstance(data_file, str) or not data_file or "/" in data_file:
        raise SidecarError(asset_uri, "data_file must be a file name beside the sidecar")
    return record


def _bbox(ring: list[list[float]]) -> list[float]:
    longitudes = [float(position[0]) for position in ring]
    latitudes = [float(position[1]) for position in ring]
    return [min(longitudes), min(latitudes), max(longitudes), max(latitudes)]


def _datetime(value: Any, asset_uri: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise SidecarError(asset_uri, f"acquired {value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise SidecarError(asset_uri, f"acquired {value!r} has no time zone")
    return parsed
