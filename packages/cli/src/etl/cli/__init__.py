"""etl.cli: the ``etl`` command line, a thin typer shell over the etl library (see docs/cli.md).

Nothing in etl imports through this file: etl's code imports each name from the module
that defines it (docs/internals.md, "Packages and who imports whom").
"""
