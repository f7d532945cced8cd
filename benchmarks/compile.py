"""Benchmark the compiler: manifest size and node bound versus dataset size, and render start-up.

    uv run python benchmarks/compile.py

1. For datasets whose asset listings would give 10, 10^4 and 10^7 assets: compile time, manifest
   bytes, and the most nodes a run can have. The compiler never lists assets, so the manifest is
   the same size for all three; the node count is bounded by B + 5 per collection + 1, where
   B = min(chunks, workflow.max_pods / collections).
2. Start-up: median wall and CPU seconds of fresh processes (``etl --help``, ``etl dataset render``
   of ``datasets/sentinel-2-l2a``, and for scale ``import hera.workflows``, which render never does).
3. ``etl dataset render -d datasets/sentinel-2-l2a`` against PCTasks' dry run of the same dataset
   (``pctasks dataset process-items CHUNKSET -d datasets/sentinel-2/dataset.yaml``, which prints the
   workflow and submits nothing), run in turn, A B A B ...; prints the median of the pairs' CPU and
   wall ratios. PCTasks is not a dependency: give ``--pctasks`` (its ``pctasks`` executable, in a
   virtualenv of its own) and ``--pctasks-dataset`` (its ``datasets/sentinel-2/dataset.yaml``);
   without them this part says so and is skipped.

    uv run python benchmarks/compile.py [--pctasks PATH --pctasks-dataset PATH] [--pairs 7]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "compile_datasets" / "goes-glm"
SENTINEL = ROOT / "datasets" / "sentinel-2-l2a"
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


def _run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def _median_seconds(command: list[str]) -> tuple[float, float]:
    """Median wall and CPU seconds of ``RUNS`` fresh processes."""
    runs = [_run(command) for _ in range(RUNS)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def size_table() -> None:
    from etl.argo.compiling.dataset_dags import max_batches
    from etl.argo.compiling.workflow import compile_workflow
    from etl.argo.options import WorkflowCommand
    from etl.core.profiles.model import Profile
    from etl.dataset.loader import load_dataset

    profile = Profile.builtin_local()
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
        ("etl --help", [str(ETL), "--help"]),
        ("etl dataset render", [str(ETL), "dataset", "render", "-d", str(SENTINEL)]),
    ]
    print(f"\nmedian of {RUNS} fresh processes")
    print(f"{'':<24} {'wall s':>7} {'cpu s':>7}")
    for label, command in rows:
        wall, cpu = _median_seconds(command)
        print(f"{label:<24} {wall:>7.2f} {cpu:>7.2f}")


def pctasks_pairs(pctasks: Path, dataset: Path, pairs: int) -> None:
    """``etl dataset render`` against PCTasks' dry run of sentinel-2, in turn."""
    ours = [str(ETL), "dataset", "render", "-d", str(SENTINEL)]
    theirs = [str(pctasks), "dataset", "process-items", "bench", "-d", str(dataset)]
    theirs += ["-a", "registry", "example.azurecr.io"]
    # PCTasks reads its client settings before it prints; a dry run never uses them.
    env = dict(
        os.environ, PCTASKS_CLIENT__ENDPOINT="http://127.0.0.1:9", PCTASKS_CLIENT__API_KEY="-"
    )
    _run(ours), _run(theirs, env)  # warm-up
    cpu, wall, times = [], [], []
    for _ in range(pairs):
        (a_wall, a_cpu), (b_wall, b_cpu) = _run(ours), _run(theirs, env)
        cpu.append(a_cpu / b_cpu)
        wall.append(a_wall / b_wall)
        times.append((a_cpu, b_cpu))
    print(
        f"\nrender vs PCTasks' dry run (sentinel-2, {pairs} pairs in turn, load "
        f"{os.getloadavg()[0]:.1f}): CPU {statistics.median(t[0] for t in times):.3f} s against "
        f"{statistics.median(t[1] for t in times):.3f} s, ratio {statistics.median(cpu):.2f} "
        f"(pairs {min(cpu):.2f}-{max(cpu):.2f}); wall ratio {statistics.median(wall):.2f} "
        f"(pairs {min(wall):.2f}-{max(wall):.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pctasks", type=Path, help="PCTasks' pctasks executable")
    parser.add_argument("--pctasks-dataset", type=Path, help="its datasets/sentinel-2/dataset.yaml")
    parser.add_argument("--pairs", type=int, default=7)
    args = parser.parse_args()
    size_table()
    startup_table()
    if args.pctasks is None or args.pctasks_dataset is None:
        print(
            "\nrender vs PCTasks: skipped (give --pctasks and --pctasks-dataset: PCTasks installed "
            "in a virtualenv of its own, from github.com/microsoft/planetary-computer-tasks)"
        )
        return
    pctasks_pairs(args.pctasks, args.pctasks_dataset, args.pairs)


if __name__ == "__main__":
    main()
