"""Landsat collections (test dataset of the compiler tests)."""
