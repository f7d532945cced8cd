"""etl.pgstac."""
