"""Azure Storage queues: ``queue://ACCOUNT/NAME`` URIs, their clients and the storage events in them.

``etl.core.queues.uris`` and ``etl.core.queues.events`` are pure Python; ``etl.core.queues.clients``
imports the Azure SDK and is imported only when a queue is opened. See ``docs/streaming.md``.

Nothing in etl imports through this file: etl's code imports each name from the module
that defines it (docs/internals.md, "Packages and who imports whom").
"""
