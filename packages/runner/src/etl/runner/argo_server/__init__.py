"""etl.runner.argo_server: the Argo Server client, a ``WorkflowRunner`` (etl.runner.workflow_runner).

``client`` (submit, get, list, stop, retry, lint, delete over Hera's ``WorkflowsService``),
``streams`` (logs and the watch, which Hera cannot do), ``transport`` (the HTTP session and the
one-line errors), ``status`` (a ``WorkflowStatus`` read out of Argo's ``Workflow`` JSON),
``pod_names`` (the pod name Argo gives each node), ``manifest_models`` (manifests as Hera's
models, unknown fields refused).
"""
