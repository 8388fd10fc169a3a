"""Importing an O*NET-size taxonomy: the import, the catalog load, `skillcoach serve` start-up, role
matching p50 / p99, and peak RSS of each.

    python bench/import.py [--occupations 1000] [--alternates 57000] [--queries 400] [--keep DIR]
                           [--serve-runs 3] [--serve-env NAME=VALUE] [--reference CHECKOUT]

Writes O*NET database text files of that size (1,000 occupations, 57,000 alternate titles, 35 rated
skills and 33 knowledge areas per occupation = 35,000 importance-rated skill rows plus their level
rows, technology skills, related occupations, job zones) in the published layout into a temporary
folder, runs `skillcoach catalog import onet` on them, then measures, each in a fresh process:
the catalog load and the matcher's indexes (read from the import's `.index/`, and rebuilt without it
for comparison); `skillcoach serve` until /healthz answers, with the shipped catalog alone as the
reference measured in the same run; role matching per query, with one rapidfuzz `extractOne` over the
same titles (as in bench/matching.py) and the same queries on the shipped catalog as references.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
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

JOBS = ("assistant", "officer", "technician", "manager", "analyst", "operator", "worker", "coordinator",
        "specialist", "supervisor", "adviser", "engineer", "inspector", "clerk", "planner", "designer",
        "installer", "repairer", "mechanic", "attendant", "scientist", "teacher", "therapist", "aide", "driver")
MODIFIERS = ("senior", "junior", "lead", "chief", "head", "trainee", "apprentice", "master", "field", "shift",
             "area", "regional", "night", "mobile", "relief", "staff", "principal", "journeyman", "certified")
QUERIES = [
    "I am a nurse on a hospital ward", "primary school teacher", "head chef in a busy restaurant",
    "I write news stories for a local paper", "senior backend dev", "data analist", "beekeeper",
    "I look after the company's cloud accounts and backups", "something in HR maybe", "museum conservator",
    "i fix the machines on the factory floor", "forklift driver in a warehouse", "journalist",
    "I answer customer emails and calls", "product manager", "zxqv plorb",
]


def vocabulary() -> list[str]:
    """The words of the shipped catalog's titles, alternate titles and skill names (about 2,000): titles
    made of them are as varied as real ones, which a few dozen repeated words would not be."""
    from bot.catalog import load_catalog

    catalog = load_catalog()
    words = set()
    for role in catalog.roles.values():
        for title in [role.title, *role.alt_titles]:
            words.update(w for w in title.lower().split() if w.isalpha() and len(w) >= 3)
    for skill in catalog.skills.values():
        words.update(w for w in skill.name.lower().split() if w.isalpha() and len(w) >= 3)
    return sorted(words)


def write_onet(folder: Path, occupations: int, alternates: int, seed: int = 11) -> dict[str, int]:
    """O*NET text files of this size, in the published layout (header row, tabs, CRLF, no quoting)."""
    from onet_elements import KNOWLEDGE, SKILLS  # beside this script

    rnd = random.Random(seed)
    words = vocabulary()
    folder.mkdir(parents=True, exist_ok=True)
    codes, titles = [], {}
    majors = ["11", "13", "15", "17", "19", "21", "23", "25", "27", "29", "31", "33", "35", "37", "39", "41",
              "43", "45", "47", "49", "51", "53"]
    for i in range(occupations):
        code = f"{majors[i % len(majors)]}-{1000 + i:04d}.{i % 3:02d}"
        codes.append(code)
        titles[code] = f"{rnd.choice(words).title()} {rnd.choice(words).title()} {rnd.choice(JOBS).title()}s"

    def table(name: str, header: list[str], rows) -> int:
        n = 0
        with open(folder / name, "w", encoding="utf-8", newline="") as f:
            f.write("\t".join(header) + "\r\n")
            for row in rows:
                f.write("\t".join(row) + "\r\n")
                n += 1
        return n

    counts = {}
    (folder / "Read Me.txt").write_text("O*NET 30.1 Database\nsynthetic, for bench/import.py\n", encoding="utf-8")
    counts["occupations"] = table("Occupation Data.txt", ["O*NET-SOC Code", "Title", "Description"], (
        [c, titles[c], " ".join(rnd.choice(words) for _ in range(24)) + "."] for c in codes))
    per = alternates // occupations
    extra = alternates - per * occupations

    def alts():
        for k, c in enumerate(codes):
            for j in range(per + (1 if k < extra else 0)):
                alt = " ".join([rnd.choice(MODIFIERS), rnd.choice(words), rnd.choice(words), rnd.choice(JOBS)][rnd.randint(0, 1):])
                yield [c, titles[c], alt, "n/a", rnd.choice(["08", "09", "10"])]
    counts["alternate titles"] = table("Alternate Titles.txt",
                                       ["O*NET-SOC Code", "Title", "Alternate Title", "Short Title", "Source(s)"], alts())
    header = ["O*NET-SOC Code", "Title", "Element ID", "Element Name", "Scale ID", "Data Value", "N", "Standard Error",
              "Lower CI Bound", "Upper CI Bound", "Recommend Suppress", "Not Relevant", "Date", "Domain Source"]

    def rated(elements):
        for c in codes:
            for eid, name in elements:
                im = rnd.uniform(1.0, 5.0)
                lv = rnd.uniform(0.0, 7.0)
                yield [c, titles[c], eid, name, "IM", f"{im:.2f}", "8", "0.1250", f"{im - .2:.4f}", f"{im + .2:.4f}",
                       "N", "n/a", "08/2025", "Analyst"]
                yield [c, titles[c], eid, name, "LV", f"{lv:.2f}", "8", "0.1250", f"{lv - .2:.4f}", f"{lv + .2:.4f}",
                       "N", "N", "08/2025", "Analyst"]
    counts["skill rows (IM+LV)"] = table("Skills.txt", header, rated(SKILLS))
    counts["knowledge rows (IM+LV)"] = table("Knowledge.txt", header, rated(KNOWLEDGE))
    tools = [f"{rnd.choice(words).title()} {rnd.choice(['Studio', 'Suite', 'Pro', 'Manager', 'Cloud'])} {n}"
             for n in range(2000)]

    def tech():
        for c in codes:
            for tool in rnd.sample(tools, 32):
                hot = rnd.random() < 0.15
                yield [c, titles[c], tool, "43232100", "Industry software", "Y" if hot else "N",
                       "Y" if hot and rnd.random() < 0.3 else "N"]
    counts["technology rows"] = table("Technology Skills.txt", ["O*NET-SOC Code", "Title", "Example", "Commodity Code",
                                                                "Commodity Title", "Hot Technology", "In Demand"], tech())

    def related():
        for c in codes:
            for i, other in enumerate(rnd.sample(codes, 20), start=1):
                if other != c:
                    yield [c, titles[c], other, titles[other], "Primary-Short" if i <= 5 else "Supplemental", str(i)]
    counts["related rows"] = table("Related Occupations.txt", ["O*NET-SOC Code", "Title", "Related O*NET-SOC Code",
                                                               "Related Title", "Relatedness Tier", "Index"], related())
    counts["job zones"] = table("Job Zones.txt", ["O*NET-SOC Code", "Title", "Job Zone", "Date", "Domain Source"],
                                ([c, titles[c], str(rnd.randint(1, 5)), "08/2025", "Analyst"] for c in codes))
    return counts


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- phases, each run in a fresh process (`--phase NAME`) -----------------------------------------
def phase_import(args) -> dict:
    from bot.cli import main

    t = time.perf_counter()
    code = main(["catalog", "import", "onet", args.src, "--out", args.out])
    return {"seconds": time.perf_counter() - t, "exit": code, "peak_mb": peak_mb()}


def phase_load(args) -> dict:
    t = time.perf_counter()
    from bot.catalog import load_catalog
    from bot.recommend import Recommender

    from bot.matching import warm

    imported = time.perf_counter()
    catalog = load_catalog([Path(args.out)])
    loaded = time.perf_counter()
    if args.no_cache:
        catalog.folders = []  # as if the import had kept no index: build everything
    Recommender(catalog)
    warm(catalog)  # the indexes are read when first used; `serve` reads them right after its port opens
    ready = time.perf_counter()
    return {"import_modules": imported - t, "load": loaded - imported, "indexes": ready - loaded,
            "total": ready - t, "roles": len(catalog.roles), "peak_mb": peak_mb()}


def phase_match(args) -> dict:
    from rapidfuzz import fuzz, process

    from bot.catalog import load_catalog
    from bot.matching import RoleMatcher

    catalog = load_catalog([Path(args.out)])
    matcher = RoleMatcher(catalog)
    rnd = random.Random(5)
    words = vocabulary()
    roles = list(catalog.roles.values())
    queries = []
    for i in range(args.queries):
        kind = i % 4
        role = rnd.choice(roles)
        if kind == 0:
            queries.append(role.title)
        elif kind == 1:
            alt = rnd.choice(role.alt_titles or [role.title])
            j = rnd.randrange(len(alt))
            queries.append(alt[:j] + alt[j + 1:])  # a typo
        elif kind == 2:
            queries.append(f"I work as a {rnd.choice(words)} {rnd.choice(JOBS)} at a {rnd.choice(words)} site")
        else:
            queries.append(QUERIES[i % len(QUERIES)])
    matcher.match("warm up")
    times = []
    for q in queries:
        t = time.perf_counter()
        matcher.match(q)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    # best of 3 per query: what the query costs, without the pauses another process on the cores adds
    best = sorted(min(_timed(matcher, q) for _ in range(3)) for q in queries)
    shipped = RoleMatcher(load_catalog())  # the same queries on the shipped catalog alone, same process
    shipped.match("warm up")
    base = []
    for q in queries:
        t = time.perf_counter()
        shipped.match(q)
        base.append((time.perf_counter() - t) * 1000)
    base.sort()
    base_best = sorted(min(_timed(shipped, q) for _ in range(3)) for q in queries)
    ref = []
    for q in queries[: max(40, len(queries) // 4)]:
        t = time.perf_counter()
        process.extractOne(q, matcher._phrases, scorer=fuzz.ratio)
        ref.append((time.perf_counter() - t) * 1000)
    return {"p50": statistics.median(times), "p99": times[int(0.99 * (len(times) - 1))],
            "titles": len(matcher._phrases), "reference_p50": statistics.median(ref), "peak_mb": peak_mb(),
            "shipped_p50": statistics.median(base), "shipped_p99": base[int(0.99 * (len(base) - 1))],
            "shipped_titles": len(shipped._phrases), "best_p50": statistics.median(best),
            "best_p99": best[int(0.99 * (len(best) - 1))], "shipped_best_p99": base_best[int(0.99 * (len(base_best) - 1))]}


def _timed(matcher, query: str) -> float:
    t = time.perf_counter()
    matcher.match(query)
    return (time.perf_counter() - t) * 1000


def _child(phase: str, args, extra: list[str] = ()) -> dict:
    cmd = [sys.executable, __file__, "--phase", phase, "--src", args.src, "--out", args.out,
           "--queries", str(args.queries), *extra]
    out = subprocess.run(cmd, capture_output=True, text=True, env=_env(args), timeout=900)
    if out.returncode != 0:
        raise SystemExit(f"phase {phase} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _env(args, catalog: str | None = None, tree: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft", "DATABASE_URL", "SKILLCOACH_"))}
    env["PYTHONPATH"] = tree or str(ROOT)
    env.update(kv.split("=", 1) for kv in getattr(args, "serve_env", None) or ())
    env["SKILLCOACH_DB"] = str(Path(args.work) / "db")
    env["XDG_CACHE_HOME"] = str(Path(args.work) / "cache")  # the shipped catalog's cache, empty at first
    if catalog:
        env["SKILLCOACH_CATALOG"] = catalog
    return env


def serve_ready(args, catalog: str | None, tree: str | None = None) -> tuple[float, float, float]:
    """Seconds from starting `skillcoach serve` until /healthz answers and until /readyz answers 200, and
    its peak RSS (MB) then."""
    port = _free_port()
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=_env(args, catalog, tree), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            cwd=args.work)
    try:
        alive = _until_200(proc, f"http://127.0.0.1:{port}/healthz") - t
        ready = _until_200(proc, f"http://127.0.0.1:{port}/readyz") - t
        status = Path(f"/proc/{proc.pid}/status").read_text()
        hwm = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")) / 1024
        return alive, ready, hwm
    finally:
        proc.terminate()
        proc.wait(timeout=30)


MINIMAL_SERVER = """
import sys
from aiohttp import web
async def healthz(request):
    return web.json_response({"ok": True})
app = web.Application()
app.router.add_get("/healthz", healthz)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def minimal_ready(args) -> float:
    """The reference: a bare aiohttp app with one /healthz route, started the same way."""
    port = _free_port()
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", MINIMAL_SERVER, str(port)], env=_env(args),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=args.work)
    try:
        return _until_200(proc, f"http://127.0.0.1:{port}/healthz") - t
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _until_200(proc: subprocess.Popen, url: str) -> float:
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"serve exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return time.perf_counter()
        except OSError:  # not listening yet, or 503 (urllib's HTTPError is an OSError)
            time.sleep(0.005)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--occupations", type=int, default=1000)
    ap.add_argument("--alternates", type=int, default=57_000)
    ap.add_argument("--queries", type=int, default=400)
    ap.add_argument("--keep", default="", help="write the inputs and the import here and keep them")
    ap.add_argument("--phase", default="")
    ap.add_argument("--src", default="")
    ap.add_argument("--out", default="")
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--serve-runs", type=int, default=3)
    ap.add_argument("--serve-env", action="append", default=[], metavar="NAME=VALUE",
                    help="set this for the started servers too (e.g. SKILLCOACH_TEAMS=false)")
    ap.add_argument("--reference", default="", metavar="CHECKOUT",
                    help="also start serve from this checkout's code (shipped catalog), interleaved")
    args = ap.parse_args()
    if args.phase:
        print(json.dumps({"import": phase_import, "load": phase_load, "match": phase_match}[args.phase](args)))
        return 0
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="skillcoach-import-bench-"))
    args.work, args.src, args.out = str(work), str(work / "onet"), str(work / "catalog")
    try:
        t = time.perf_counter()
        counts = write_onet(Path(args.src), args.occupations, args.alternates)
        print(f"inputs ({time.perf_counter() - t:.1f} s): " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
        imp = _child("import", args)
        print(f"import: {imp['seconds']:.2f} s, peak RSS {imp['peak_mb']:.0f} MB")
        loads = [_child("load", args) for _ in range(3)]
        load = sorted(loads, key=lambda d: d["total"])[1]
        print(f"catalog load + matching indexes (median of 3, fresh process): {load['total']:.2f} s "
              f"(imports {load['import_modules']:.2f} s, files + validation {load['load']:.2f} s, "
              f"indexes from .index/ {load['indexes']:.2f} s), {load['roles']:,} roles, peak RSS {load['peak_mb']:.0f} MB")
        cold = _child("load", args, ["--no-cache"])
        print(f"  the same without the stored indexes (rebuilt): {cold['total']:.2f} s "
              f"(indexes {cold['indexes']:.2f} s), peak RSS {cold['peak_mb']:.0f} MB")
        runs = args.serve_runs
        first = serve_ready(args, None)  # the first start with the shipped catalog writes its cache
        ref, shipped, imported, other = [], [], [], []
        for _ in range(runs):  # interleaved, so load from other programs falls on all of them alike
            ref.append(minimal_ready(args))
            shipped.append(serve_ready(args, None))
            imported.append(serve_ready(args, args.out))
            if args.reference:
                other.append(serve_ready(args, None, args.reference))
        med = statistics.median
        print(f"serve, median of {runs} (first start with the shipped catalog, cache empty: /healthz {first[0]:.2f} s, "
              f"/readyz {first[1]:.2f} s):")
        print(f"  reference, a bare aiohttp app with one route: /healthz {med(ref):.2f} s")
        named = [("shipped catalog", shipped), ("with the import", imported)]
        if other:
            named.append((f"shipped catalog, code of {args.reference}", other))
        for name, got in named:
            print(f"  {name}: /healthz {med(g[0] for g in got):.2f} s ({', '.join(f'{g[0]:.2f}' for g in got)}; "
                  f"{med(g[0] for g in got) / med(ref):.2f}x the bare app), /readyz {med(g[1] for g in got):.2f} s "
                  f"({', '.join(f'{g[1]:.2f}' for g in got)}), peak RSS {max(g[2] for g in got):.0f} MB")
        shipped = (med(g[0] for g in shipped), med(g[1] for g in shipped), max(g[2] for g in shipped))
        imported = (med(g[0] for g in imported), med(g[1] for g in imported), max(g[2] for g in imported))
        match = _child("match", args)
        print(f"role matching over {match['titles']:,} titles ({args.queries} queries): p50 {match['p50']:.2f} ms, "
              f"p99 {match['p99']:.2f} ms; extractOne reference p50 {match['reference_p50']:.2f} ms "
              f"(p50 ratio {match['p50'] / match['reference_p50']:.2f}x), peak RSS {match['peak_mb']:.0f} MB")
        print(f"  the same queries on the shipped catalog alone ({match['shipped_titles']:,} titles): "
              f"p50 {match['shipped_p50']:.2f} ms, p99 {match['shipped_p99']:.2f} ms "
              f"(p99 ratio import / shipped {match['p99'] / match['shipped_p99']:.2f}x)")
        print(f"  best of 3 runs per query: p50 {match['best_p50']:.2f} ms, p99 {match['best_p99']:.2f} ms "
              f"(shipped catalog p99 {match['shipped_best_p99']:.2f} ms)")
        print(f"targets: shipped catalog /healthz < 1 s — {'met' if shipped[0] < 1 else 'NOT met'}; with the import "
              f"/readyz within 2 s — {'met' if imported[1] <= 2 else 'NOT met'}; matching p99 < 5 ms — "
              f"{'met' if match['p99'] < 5 else 'NOT met'} (best of 3: {'met' if match['best_p99'] < 5 else 'NOT met'}); "
              f"serve peak RSS < 400 MB — {'met' if imported[2] < 400 else 'NOT met'}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
