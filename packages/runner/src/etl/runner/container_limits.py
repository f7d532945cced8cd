"""A container's ``resources.limits`` as ``docker run`` options: ``--memory`` and ``--cpus``.

Kubernetes writes quantities with binary (``Ki``, ``Mi``, ``Gi``, ``Ti``) or decimal (``k``,
``M``, ``G``, ``T``) suffixes, and CPU in cores or millicores (``500m``); docker takes bytes
and a number of CPUs. Swap is capped at the memory limit, so a pod over its limit is killed
(``OOMKilled``) as on a node without swap, instead of slowing down.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from etl.runner.workflow_manifest import UnsupportedManifestError

__all__ = ["limit_options", "memory_bytes"]

_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T|m)?$")
_FACTORS = {
    None: 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def memory_bytes(quantity: str, where: str) -> int:
    """``256Mi`` → 268435456."""
    match = _QUANTITY.match(quantity.strip())
    if not match or match.group(2) == "m":
        raise UnsupportedManifestError(f"{where}: memory {quantity!r} is not a quantity like 512Mi")
    return int(float(match.group(1)) * _FACTORS[match.group(2)])


def _cpus(quantity: str, where: str) -> str:
    """``500m`` → ``0.5``; ``2`` → ``2``."""
    match = _QUANTITY.match(quantity.strip())
    if not match or match.group(2) not in (None, "m"):
        raise UnsupportedManifestError(f"{where}: cpu {quantity!r} is not a quantity like 500m")
    cores = float(match.group(1)) / (1000 if match.group(2) == "m" else 1)
    return f"{cores:g}"


def limit_options(limits: Mapping[str, str], where: str) -> list[str]:
    """The ``docker run`` options for ``limits`` (other resources than memory and cpu: none)."""
    options: list[str] = []
    if "memory" in limits:
        size = str(memory_bytes(limits["memory"], f"{where}.resources.limits"))
        options += ["--memory", size, "--memory-swap", size]
    if "cpu" in limits:
        options += ["--cpus", _cpus(limits["cpu"], f"{where}.resources.limits")]
    return options
