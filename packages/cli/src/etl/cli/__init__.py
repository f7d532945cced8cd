"""etl.cli."""
