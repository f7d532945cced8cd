"""Benchmark the compiler: manifest size and node bound versus dataset size, and render start-up.

    uv run python benchmarks/compile.py

1. For datasets whose asset listings would give 10, 10^4 and 10^7 assets: compile time, manifest
   bytes, and the most nodes a run can have. The compiler never lists assets, so the manifest is
   the same size for all three; the node count is bounded by B + 5 per collection + 1, where
   B = min(chunks, workflow.max_pods / collections).
2. Wall time of ``etl dataset render`` (a fresh process: imports + load + compile + print), against
   PCTasks' ~0.7 s dry run, and what importing Hera costs both ways.
"""

from __future__ import annotations

import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "compile_datasets" / "goes-glm"
ETL = Path(sys.executable).parent / "etl"
CHUNK_LENGTH = 5000
RUNS = 5

DATASET = """\
id: bench
image: ghcr.io/example/etl-task:1.0.0
code:
  src: $<< local.path(./bench.py) >>
collections:
  - id: bench
    class: bench:Bench
    asset_storage:
      - uri: blob://benchdata/assets-{n}  # the only difference: how many assets it holds
        chunks:
          options: {{chunk_length: {chunk_length}}}
    chunk_storage:
      uri: blob://benchstate/chunks
"""


def _median_seconds(command: list[str]) -> tuple[float, float]:
    """Median wall and CPU (user + system) seconds of ``RUNS`` fresh processes."""
    walls, cpus = [], []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def size_table() -> None:
    from etl.argo import WorkflowCommand, compile_workflow, max_batches
    from etl.argo._hera_models import hera_models
    from etl.core.profiles.model import Profile
    from etl.dataset import load_dataset

    profile = Profile.builtin_local()
    start = time.perf_counter()
    hera_models()
    print(f"loading Hera's models (once per process): {time.perf_counter() - start:.2f} s")
    print(f"{'assets':>10} {'chunks':>7} {'B':>5} {'max nodes':>9} {'bytes':>7} {'compile s':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (10, 10_000, 10_000_000):
            folder = Path(tmp) / str(n)
            folder.mkdir()
            (folder / "bench.py").write_text("X = 1\n")
            (folder / "dataset.yaml").write_text(DATASET.format(n=n, chunk_length=CHUNK_LENGTH))
            loaded = load_dataset(folder)
            start = time.perf_counter()
            manifest = compile_workflow(loaded, WorkflowCommand.PROCESS_ITEMS, profile)
            seconds = time.perf_counter() - start
            chunks = math.ceil(n / CHUNK_LENGTH)
            batches = min(chunks, max_batches(profile, 1))
            nodes = batches + 5 + 1
            size = len(json.dumps(manifest))
            print(f"{n:>10} {chunks:>7} {batches:>5} {nodes:>9} {size:>7} {seconds:>9.3f}")


def startup_table() -> None:
    python = sys.executable
    rows = [
        ("python -c pass", [python, "-c", "pass"]),
        ("import hera.workflows", [python, "-c", "import hera.workflows"]),
        (
            "etl.argo hera_models()",
            [python, "-c", "from etl.argo._hera_models import hera_models; hera_models()"],
        ),
        ("etl --help", [str(ETL), "--help"]),
        ("etl dataset render", [str(ETL), "dataset", "render", "-d", str(EXAMPLE)]),
    ]
    print(f"\nmedian of {RUNS} fresh processes (PCTasks dry run: ~0.7 s wall)")
    print(f"{'':<24} {'wall s':>7} {'cpu s':>7}")
    for label, command in rows:
        wall, cpu = _median_seconds(command)
        print(f"{label:<24} {wall:>7.2f} {cpu:>7.2f}")


if __name__ == "__main__":
    size_table()
    startup_table()
