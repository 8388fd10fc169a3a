"""What the team report's charts cost, and that start-up does not pay for them.

    python bench/charts.py [--runs 5] [--reference /path/to/another/checkout]

1. Start-up: a fresh interpreter imports bot.server (with the report and the charts modules), as shipped
   (matplotlib imported only when a chart is drawn), against the same with matplotlib imported first
   (what an import at start would cost). Median of --runs, and the ratio. (That building the app does not
   import matplotlib either is a test: tests/managers/test_charts.py.)
With --reference: `skillcoach serve` to its first /healthz 200, this checkout against another one (the
   main branch, before the charts), interleaved, in the same run.
2. Drawing: the first chart in a process (matplotlib's import and font set-up included), then the median
   of the next ones — each of the three charts of a report whose figures are all shown.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUILD = ("import bot.server, bot.report, bot.charts\n"
         "import sys; assert ('matplotlib' in sys.modules) == {eager}\n")


def startup(eager: bool) -> float:
    code = ("import matplotlib.figure, matplotlib.backends.backend_agg\n" if eager else "") + BUILD.format(eager=eager)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=str(ROOT))
    return time.perf_counter() - t0


def serve_ready(tree: Path, store: Path) -> float:
    """Seconds from starting `python -m bot serve` (code from `tree`) to the first 200 from /healthz."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft", "DATABASE_URL"))}
    env.update(PYTHONPATH=str(tree), SKILLCOACH_DB=str(store), SKILLCOACH_TEAMS="false",
               SKILLCOACH_LOG_LEVEL="WARNING", SKILLCOACH_PUBLIC_URL="https://coach.example.com")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, cwd=str(tree), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"serve from {tree} exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - t0
            except OSError:
                time.sleep(0.005)
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reference", type=Path, help="another checkout (e.g. the main branch): its "
                        "`serve` start-up is measured in the same run, interleaved with this one's")
    args = parser.parse_args()
    if args.reference:
        with tempfile.TemporaryDirectory() as tmp:
            here, there = [], []
            for i in range(args.runs + 1):
                a, b = serve_ready(ROOT, Path(tmp) / "a"), serve_ready(args.reference, Path(tmp) / "b")
                if i:   # the first pair warms the caches
                    here.append(a)
                    there.append(b)
        print(f"skillcoach serve → first 200 from /healthz, median of {args.runs} (interleaved):")
        print(f"  this checkout                    {statistics.median(here) * 1000:7.0f} ms")
        print(f"  {str(args.reference)[:32]:<32} {statistics.median(there) * 1000:7.0f} ms")
        print(f"  ratio                            {statistics.median(here) / statistics.median(there):7.2f}")
    startup(False)  # warm the file cache (and matplotlib's font cache) once
    startup(True)
    lazy = statistics.median(startup(False) for _ in range(args.runs))
    eager = statistics.median(startup(True) for _ in range(args.runs))
    print(f"start-up (a fresh interpreter importing bot.server), median of {args.runs}:")
    print(f"  as shipped (matplotlib lazy)     {lazy * 1000:7.0f} ms")
    print(f"  matplotlib imported at start     {eager * 1000:7.0f} ms")
    print(f"  ratio shipped / eager            {lazy / eager:7.2f}")

    from bot.charts import charts_for, draw
    from bot.report import visible_figures

    stats = {"group": 20, "with_plan": 14, "upskill": 8, "reskill": 6, "helped": 6, "progressing": 7,
             "skills_done": 12, "skills_total": 40,
             "building": [("Gestión de proyectos", 9), ("Управление проектами", 7), ("SQL", 6), ("Python", 5)]}
    charts = charts_for(visible_figures(stats, 5), 20)
    t0 = time.perf_counter()
    draw(charts[0])
    first = time.perf_counter() - t0
    later = []
    for _ in range(args.runs):
        for chart in charts:
            t0 = time.perf_counter()
            draw(chart)
            later.append(time.perf_counter() - t0)
    print("drawing a chart (960 px wide PNG):")
    print(f"  first in the process (import)    {first * 1000:7.0f} ms")
    print(f"  later, median of {len(later):<3}            {statistics.median(later) * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
