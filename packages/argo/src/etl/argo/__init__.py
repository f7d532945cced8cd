"""etl.argo: the compiler: datasets to Argo Workflows (mirrors of Hera's models), the code bundle.

:mod:`etl.argo.compiling` builds the manifests; beside it, the light modules the CLI and the
runners use: :mod:`~etl.argo.options` (the run request), :mod:`~etl.argo.bundle` and
:mod:`~etl.argo.ingest_sources` (the files the pods read), :mod:`~etl.argo.manifest_format`.
Running what it compiles (the local runner, the Argo Server client) is :mod:`etl.runner`'s.

Nothing in etl imports through this file: etl's code imports each name from the module
that defines it (docs/internals.md, "Packages and who imports whom").
"""
