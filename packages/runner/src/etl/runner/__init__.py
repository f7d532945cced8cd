"""etl.runner."""
