"""etl.core: errors, located YAML, ``$<< >>`` templating, profiles, progress, storage and secrets.

Nothing in etl imports through this file: etl's code imports each name from the module
that defines it (docs/internals.md, "Packages and who imports whom").
"""
