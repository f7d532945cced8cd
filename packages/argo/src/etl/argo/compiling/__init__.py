"""etl.argo.compiling: datasets and ``etl ingest`` commands compiled to Argo manifests with Hera.

Its modules build typed mirrors of Hera's generated models (:mod:`~etl.argo.compiling.models`:
Hera's models are the manifests' schema, checked by the tests), so compiling imports no Hera at
all; nothing outside the compiler imports it, and ``etl --help`` and the pods never do.

- :mod:`~etl.argo.compiling.workflow`: a dataset's ``Workflow`` or ``CronWorkflow``;
- :mod:`~etl.argo.compiling.dataset_dags`: its templates, a DAG per collection;
- :mod:`~etl.argo.compiling.cluster_storage`: local paths in its storage refused on Argo;
- :mod:`~etl.argo.compiling.ingest`: the one-step ``etl ingest`` workflows;
- :mod:`~etl.argo.compiling.stream`: a collection's stream, KEDA objects checked against KEDA's
  own CRD schema (:mod:`~etl.argo.compiling.keda_schema`, the CRDs in ``keda_crds/``);
- :mod:`~etl.argo.compiling.spec`: what every workflow shares (spec, metadata, image, dict form);
- :mod:`~etl.argo.compiling.models`: the Argo objects built, mirrors of Hera's models;
- :mod:`~etl.argo.compiling.containers`, :mod:`~etl.argo.compiling.pod_environment`,
  :mod:`~etl.argo.compiling.task_command`, :mod:`~etl.argo.compiling.names`: container templates,
  their environment, their ``etl-task`` command lines, and Kubernetes-safe names.

Nothing in etl imports through this file: etl's code imports each name from the module
that defines it (docs/internals.md, "Packages and who imports whom").
"""
