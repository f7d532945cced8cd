"""etl.dataset."""
