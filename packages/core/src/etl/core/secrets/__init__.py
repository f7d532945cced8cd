"""Secrets: ``$<< secrets.NAME >>`` values, from the environment and a local file, or Key Vault.

See ``docs/secrets.md``. The Azure SDK is imported only when Key Vault is first asked for a secret.

Nothing in etl imports through this file: etl's code imports each name from the module
that defines it (docs/internals.md, "Packages and who imports whom").
"""
