"""etl.cli: the ``etl`` command line, a thin typer shell over the etl library (see docs/cli.md)."""

from etl.cli.main import app, main

__all__ = ["app", "main"]
