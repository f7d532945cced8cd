"""etl.core."""
