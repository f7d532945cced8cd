"""etl.argo."""
