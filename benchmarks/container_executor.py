"""Benchmark: the per-pod start-up cost of the local runner's container executor over the process one.

Runs one workflow of N pods, one at a time (``spec.parallelism: 1``), each ``etl-task --help``
(start, import, exit: nothing but the start-up), on the local runner with ``local.executor``
``process`` (``etl-task`` forked warm) and then ``container`` (``docker run`` of the task image,
inspected and removed after each pod); prints each executor's seconds per pod and their ratio.
Best of the rounds.

    scripts/image build     # etl-task:dev, or --image any task image tag
    uv run python benchmarks/container_executor.py [--pods 10] [--rounds 3] [--image etl-task:dev]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from etl.core.profiles.model import LocalExecutor
from etl.core.secrets.local import LocalSecrets
from etl.runner.local import LocalRunner


def manifest(pods: int, image: str) -> dict[str, Any]:
    """A workflow of ``pods`` independent ``etl-task --help`` pods, run one at a time."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "startup-", "namespace": "bench"},
        "spec": {
            "entrypoint": "main",
            "parallelism": 1,
            "templates": [
                {
                    "name": "main",
                    "dag": {"tasks": [{"name": f"p{i}", "template": "pod"} for i in range(pods)]},
                },
                {
                    "name": "pod",
                    "container": {"image": image, "command": ["etl-task"], "args": ["--help"]},
                },
            ],
        },
    }


def seconds_per_pod(executor: LocalExecutor, pods: int, image: str, state: Path) -> float:
    runner = LocalRunner(
        state / executor.value, secrets=LocalSecrets("local", env={}), env={}, executor=executor
    )
    runner.prepare()
    started = time.perf_counter()
    result = runner.submit(manifest(pods, image))
    took = time.perf_counter() - started
    if result.status != "Succeeded":
        raise SystemExit(f"{executor.value}: the run ended {result.status}")
    return took / pods


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--image", default="etl-task:dev")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        best = {
            executor: min(
                seconds_per_pod(executor, args.pods, args.image, Path(folder))
                for _ in range(args.rounds)
            )
            for executor in (LocalExecutor.PROCESS, LocalExecutor.CONTAINER)
        }
    process, container = best[LocalExecutor.PROCESS], best[LocalExecutor.CONTAINER]
    print(f"process executor    {process * 1000:8.1f} ms per pod")
    print(f"container executor  {container * 1000:8.1f} ms per pod")
    print(f"ratio               {container / process:8.1f}x")


if __name__ == "__main__":
    main()
