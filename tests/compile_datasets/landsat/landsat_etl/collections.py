"""Landsat 8 and 9 collection classes (test dataset of the compiler tests; never imported)."""

from etl.dataset import Collection


class Landsat8(Collection):
    """Landsat 8 OLI/TIRS."""


class Landsat9(Collection):
    """Landsat 9 OLI/TIRS-2."""
