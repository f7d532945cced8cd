"""Kubernetes-safe names (and, from the pod contract, label values) made from dataset and
collection ids.

Every name fits the limit of where it goes, and stays unique when shortened: a name cut to fit
ends with ``-`` and the first 8 hex digits of the SHA-256 of the full id.

- ``Workflow`` ``generateName``: at most 58 characters, so that Kubernetes' 5-character random
  suffix makes a name of at most 63 (Argo's limit) without cutting the prefix.
- ``CronWorkflow`` name: at most 52 characters, since Argo names each workflow it starts
  ``NAME-<unix time>`` and refuses a cron workflow name longer than 52.
- KEDA ``ScaledJob`` (and its ``TriggerAuthentication``) name: at most 52 characters, since KEDA
  names each Job it starts ``NAME-`` plus Kubernetes' 5-character suffix, and a Job's name is a
  label value of its pods (63 at most).
- Label values: at most 63 characters, alphanumeric at both ends
  (:func:`etl.core.pod_contract.label_value`: the runners look workflows up by them too).
- Template and DAG task names: DNS-1123 labels (Argo allows 128 characters).
"""

from __future__ import annotations

import re

from etl.core.pod_contract import shortened

__all__ = [
    "MAX_CRON_WORKFLOW_NAME",
    "MAX_GENERATE_NAME",
    "MAX_SCALED_JOB_NAME",
    "cron_workflow_name",
    "dns_label",
    "generate_name",
    "scaled_job_name",
    "template_prefixes",
]

MAX_GENERATE_NAME = 58
MAX_CRON_WORKFLOW_NAME = 52
MAX_SCALED_JOB_NAME = 52
_STREAM = "stream"
_NOT_DNS = re.compile(r"[^a-z0-9]+")


def dns_label(text: str, max_length: int = 40) -> str:
    """``text`` lower-cased, runs of other characters turned into ``-``, at most ``max_length``."""
    slug = _NOT_DNS.sub("-", text.lower()).strip("-") or "x"
    return shortened(slug, text, max_length, "-")


def generate_name(command: str, subject: str | None = None, *, subject_first: bool = True) -> str:
    """A ``Workflow``'s ``generateName``: ``SUBJECT-COMMAND-`` (or ``COMMAND-SUBJECT-``).

    Args:
        command: The command the workflow runs (``process-items``, ``ingest-items``, ...).
        subject: The dataset or collection id; shortened to keep the prefix within 58 characters.
        subject_first: Whether the subject comes before the command.
    """
    if subject is None:
        return f"{command}-"
    label = dns_label(subject, MAX_GENERATE_NAME - len(command) - 2)
    return f"{label}-{command}-" if subject_first else f"{command}-{label}-"


def cron_workflow_name(dataset_id: str, command: str) -> str:
    """A ``CronWorkflow``'s name, ``DATASET-COMMAND``, within Argo's 52 characters."""
    return f"{dns_label(dataset_id, MAX_CRON_WORKFLOW_NAME - len(command) - 1)}-{command}"


def scaled_job_name(dataset_id: str, collection_id: str) -> str:
    """The KEDA objects' name of a collection's stream, ``DATASET-COLLECTION-stream``, within 52
    characters (unique per collection when shortened)."""
    subject = f"{dataset_id}-{collection_id}"
    return f"{dns_label(subject, MAX_SCALED_JOB_NAME - len(_STREAM) - 1)}-{_STREAM}"


def template_prefixes(collection_ids: list[str]) -> dict[str, str]:
    """A distinct template-name prefix per collection id, starting with a letter.

    Ids that differ only in case or punctuation get a numeric suffix to stay apart.
    """
    prefixes: dict[str, str] = {}
    used: set[str] = set()
    for collection_id in collection_ids:
        base = dns_label(collection_id)
        base = base if base[0].isalpha() else f"c-{base}"
        prefix, number = base, 2
        while prefix in used:
            prefix, number = f"{base}-{number}", number + 1
        used.add(prefix)
        prefixes[collection_id] = prefix
    return prefixes
