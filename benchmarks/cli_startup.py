"""How long ``etl --help`` takes: the start-up cost every command pays.

Runs ``etl --help`` N times as a subprocess (wall clock) and prints the median, beside the median
of ``python -c pass`` (the interpreter's own floor) and of ``import typer`` alone (the part of
start-up etl cannot avoid). For comparison, PCTasks' ``pctasks --help``
takes 0.24 s on the machine this was written on.

    uv run python benchmarks/cli_startup.py [-n 20]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def median_seconds(command: list[str], runs: int) -> float:
    """The median wall-clock time of ``runs`` runs of ``command`` (after one warm-up run)."""
    subprocess.run(command, check=True, capture_output=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Measure and print one line per command, the summary last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=20, help="runs per command (default 20)")
    runs = parser.parse_args().runs
    etl = shutil.which("etl") or str(Path(sys.executable).with_name("etl"))
    floor = median_seconds([sys.executable, "-c", "pass"], runs)
    print(f"python -c pass: median {floor:.3f} s over {runs} runs")
    typer_only = median_seconds([sys.executable, "-c", "import typer"], runs)
    print(f"python -c 'import typer': median {typer_only:.3f} s over {runs} runs")
    help_time = median_seconds([etl, "--help"], runs)
    print(f"etl --help: median {help_time:.3f} s over {runs} runs")
    print(f"cli_startup: etl --help median {help_time:.3f} s (floor {floor:.3f} s)")


if __name__ == "__main__":
    main()
