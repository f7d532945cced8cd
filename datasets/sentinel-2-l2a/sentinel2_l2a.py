"""Sentinel-2 Level-2A items, one per product, made from the product's ``MTD_MSIL2A.xml``.

Only the standard library reads the XML, so the task image needs nothing beyond etl. Band files
(Cloud-Optimized GeoTIFFs beside the metadata) are referenced by their HTTPS URL on the storage
account, ``storage.href_of(...)``; nothing but the metadata file is read.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from etl.dataset import Collection

if TYPE_CHECKING:
    import pystac

    from etl.core.storage import Storage

__all__ = ["ProductMetadataError", "Sentinel2L2ACollection"]

COLLECTION_ID = "sentinel-2-l2a"
EXTENSIONS = [
    "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
]


class ProductMetadataError(ValueError):
    """A product metadata file lacks a field an item needs."""


class Sentinel2L2ACollection(Collection):
    """Reads ``MTD_MSIL2A.xml`` and makes the product's item.

    The item id is the product name without its processing-baseline part (as on the Planetary
    Computer); the geometry is the product footprint; each band asset is the finest resolution
    the product has for that band.
    """

    @classmethod
    def create_item(cls, asset_uri: str, storage: Storage) -> pystac.Item:
        """The item of the product whose metadata file is ``asset_uri``.

        Raises:
            ProductMetadataError: A required field is missing or malformed.
            StorageError: The file cannot be read.
        """
        import pystac

        root = ElementTree.fromstring(storage.read_bytes(asset_uri))
        product_uri = _text(root, "PRODUCT_URI")
        name_parts = product_uri.removesuffix(".SAFE").split("_")
        if len(name_parts) != 7:
            raise ProductMetadataError(f"unexpected product name {product_uri!r}")
        mission, level, sensed, _baseline, orbit, tile, generated = name_parts
        geometry = _footprint(_text(root, "EXT_POS_LIST"))
        ring = geometry["coordinates"][0]
        item = pystac.Item(
            id="_".join([mission, level, sensed, orbit, tile, generated]),
            geometry=geometry,
            bbox=[
                min(p[0] for p in ring),
                min(p[1] for p in ring),
                max(p[0] for p in ring),
                max(p[1] for p in ring),
            ],
            datetime=_datetime(_text(root, "PRODUCT_START_TIME")),
            properties={
                "platform": _text(root, "SPACECRAFT_NAME").lower(),
                "constellation": "sentinel-2",
                "instruments": ["msi"],
                "eo:cloud_cover": float(_text(root, "Cloud_Coverage_Assessment")),
                "sat:relative_orbit": int(_text(root, "SENSING_ORBIT_NUMBER")),
                "sat:orbit_state": _text(root, "SENSING_ORBIT_DIRECTION").lower(),
                "s2:mgrs_tile": tile.removeprefix("T"),
                "s2:processing_baseline": _text(root, "PROCESSING_BASELINE"),
                "s2:product_uri": product_uri,
            },
            stac_extensions=list(EXTENSIONS),
            collection=COLLECTION_ID,
        )
        item.add_link(
            pystac.Link(
                pystac.RelType.COLLECTION, "../collection.json", media_type=pystac.MediaType.JSON
            )
        )
        product_folder = asset_uri.rsplit("/", 1)[0]
        for band, (gsd, path) in sorted(_finest_band_files(root).items()):
            item.add_asset(
                band,
                pystac.Asset(
                    href=storage.href_of(f"{product_folder}/{path}.tif"),
                    media_type=pystac.MediaType.COG,
                    roles=["visual"] if band == "TCI" else ["data"],
                    extra_fields={"gsd": float(gsd)},
                ),
            )
        item.add_asset(
            "product-metadata",
            pystac.Asset(
                href=storage.href_of(asset_uri),
                media_type=pystac.MediaType.XML,
                roles=["metadata"],
            ),
        )
        return item


def _text(root: ElementTree.Element, tag: str) -> str:
    element = root.find(f".//{tag}")
    if element is None or not (element.text or "").strip():
        raise ProductMetadataError(f"product metadata has no {tag}")
    return (element.text or "").strip()


def _datetime(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ProductMetadataError(f"{value!r} is not an ISO 8601 time") from None


def _footprint(positions: str) -> dict[str, Any]:
    """``EXT_POS_LIST`` (``lat lon lat lon ...``) as a closed GeoJSON polygon of ``[lon, lat]``."""
    numbers = [float(value) for value in positions.split()]
    if len(numbers) < 8 or len(numbers) % 2:
        raise ProductMetadataError("EXT_POS_LIST must hold at least 4 latitude/longitude pairs")
    ring = [[numbers[i + 1], numbers[i]] for i in range(0, len(numbers), 2)]
    if ring[0] != ring[-1]:
        ring.append(list(ring[0]))
    return {"type": "Polygon", "coordinates": [ring]}


def _finest_band_files(root: ElementTree.Element) -> dict[str, tuple[int, str]]:
    """Band name → (ground sample distance in metres, ``IMAGE_FILE`` path) at its finest."""
    finest: dict[str, tuple[int, str]] = {}
    for element in root.iter("IMAGE_FILE"):
        path = (element.text or "").strip()
        *_, band, resolution = path.rsplit("/", 1)[-1].split("_")
        gsd = int(resolution.removesuffix("m"))
        if band not in finest or gsd < finest[band][0]:
            finest[band] = (gsd, path)
    return finest
