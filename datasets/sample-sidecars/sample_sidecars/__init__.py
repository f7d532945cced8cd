"""The sample-sidecars dataset: synthetic scene sidecars, and the collection class that reads them.

:mod:`sample_sidecars.records` makes the sidecar records and writes them
(:func:`generate_sidecars`); :mod:`sample_sidecars.collection` holds
:class:`SampleSidecarsCollection`, which turns one sidecar into one STAC item.
"""

from sample_sidecars.collection import COLLECTION_ID, SampleSidecarsCollection, SidecarError
from sample_sidecars.records import (
    DEFAULT_SEED,
    GeneratedAssets,
    band_statistics,
    data_path,
    default_assets_uri,
    generate_sidecars,
    scene_id,
    sidecar_path,
    sidecar_record,
)

__all__ = [
    "COLLECTION_ID",
    "DEFAULT_SEED",
    "GeneratedAssets",
    "SampleSidecarsCollection",
    "SidecarError",
    "band_statistics",
    "data_path",
    "default_assets_uri",
    "generate_sidecars",
    "scene_id",
    "sidecar_path",
    "sidecar_record",
]
