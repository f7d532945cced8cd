"""Items for GOES GLM (test dataset of the compiler tests; never imported by them)."""

from etl.dataset import Collection


class GoesGlmCollection(Collection):
    """Makes one item per netCDF file."""
