"""etl.task."""
