"""`make bench`: every performance target of derive, measured on this machine.

Each target runs as whole processes (so imports and memory are their own): the median of
a few runs, or the best of 3 where the issue says so (the key's marginal cost); ratios
compare two measurements taken in the same run. Prints a table (target, measured, bound,
met, note with the load average before and after) and writes it as JSON after every step;
a step that fails is a row saying so. `--only` runs some steps and keeps the others' rows.
Not a test: timings depend on the machine, so nothing here runs in `make test`."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass
class Row:
    target: str
    measured: float
    bound: float | None  # None: measured, not a target
    unit: str
    note: str = ""

    @property
    def met(self) -> bool | None:
        return None if self.bound is None else self.measured <= self.bound


# Runs a command as its only child and records its peak memory: the larger of the launcher's
# RUSAGE_CHILDREN (the largest resident set of any single process of the command) and the
# peak of the command's whole process tree added up, sampled every 0.5 s by a thread from
# /proc (children as /proc/PID/task/TID/children lists them, each process's proportional set
# size from smaps_rollup, so pages that forked workers share with their parent count once).
# It times the child itself, from its start to its exit, so the launcher's own start-up is
# not counted, and records the CPU seconds (user + system) of the command and every process
# it waited for: on a machine that other work shares, CPU seconds over the cores used bound
# what an idle one would take.
LAUNCHER = """
import os, resource, subprocess, sys, threading, time
def tree_rss(root):
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                todo += map(int, open(f"/proc/{pid}/task/{task}/children").read().split())
            total += next(int(line.split()[1]) for line in open(f"/proc/{pid}/smaps_rollup") if line.startswith("Pss:"))
        except (OSError, StopIteration):
            pass
    return total
peaks = [0]
def sample(pid, done):
    while not done.wait(0.5):
        peaks.append(max(peaks.pop(), tree_rss(pid)))
start = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
done = threading.Event()
sampler = threading.Thread(target=sample, args=(child.pid, done))
sampler.start()
child.wait()
elapsed = time.perf_counter() - start
done.set()
sampler.join()
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
peak = max(peaks[0], usage.ru_maxrss)
open(sys.argv[1], "w").write(f"{peak} {elapsed} {usage.ru_utime + usage.ru_stime}")
sys.exit(child.returncode)
"""


CPU_SECONDS: list[float] = []  # of every run, in order: the notes of the longer targets quote them


def run(code: str | list[str], repeat: int = 1) -> tuple[float, float, str]:
    """Median wall seconds, peak resident MB (largest over repeats) and the last stdout."""
    command = [PYTHON, "-c", textwrap.dedent(code)] if isinstance(code, str) else code
    times, peaks, out = [], [], ""
    with tempfile.NamedTemporaryFile(suffix=".rss") as peak_file:
        for _ in range(repeat):
            result = subprocess.run([PYTHON, "-c", LAUNCHER, peak_file.name, *command], cwd=ROOT, capture_output=True, text=True)
            if result.returncode:
                raise RuntimeError(f"benchmark step failed: {' '.join(command[:4])}\n{result.stderr}")
            peak, elapsed, cpu = Path(peak_file.name).read_text().split()
            peaks.append(int(peak) / 1024)
            times.append(float(elapsed))
            CPU_SECONDS.append(float(cpu))
            out = result.stdout
    return statistics.median(times), max(peaks), out


SPEC_BUILDER = """
import random
def spec(sizes, seed=0):
    rng = random.Random(seed)
    n_in, *hidden, n_out = sizes
    layers = [{"units": h, "activation": "sigmoid"} for h in hidden] + [{"units": n_out, "activation": "sigmoid"}]
    n_weights = sum(a * b for a, b in zip(sizes, sizes[1:]))
    return {"inputs": {f"x{i+1}": round(rng.uniform(0.1, 0.9), 2) for i in range(n_in)},
            "targets": {f"y{i+1}": round(rng.uniform(0.1, 0.9), 2) for i in range(n_out)},
            "layers": layers, "weights": {f"w{i+1}": round(rng.uniform(-0.5, 0.5), 2) for i in range(n_weights)},
            "loss": "squared_error", "learning_rate": 0.1, "precision": {"digits": 4}}
"""


def cold_start(rows: list[Row]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        baseline = []
        ours = []
        for _ in range(5):  # interleaved, so drift in the machine's load hits both alike
            baseline.append(run('import sympy, jinja2')[0])
            ours.append(run([PYTHON, "-m", "derive", "worksheet", "--format", "md,html", "-o", folder, "--force"])[0])
    ratio = statistics.median(ours) / statistics.median(baseline)
    rows.append(Row("1. cold start: worksheet (md, html, key) / import sympy, jinja2", ratio, 1.5, "x",
                    f"{statistics.median(ours):.2f} s vs {statistics.median(baseline):.2f} s"))


def batch(rows: list[Row]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        seconds, peak, _ = run([PYTHON, "-m", "derive", "variants", "examples/2-2-1-linear-mse.yaml", "--count", "1000",
                                "--seed", "1", "--format", "md", "-o", folder])
    rows.append(Row("2. batch: 1000 variants of seed 000 (md worksheet + key)", seconds, 10.0, "s", f"CPU {CPU_SECONDS[-1]:.1f} s (every process); peak {peak:.0f} MB"))


def best_process(command: list[str], repeat: int = 3) -> tuple[float, float]:
    """Best wall seconds of a whole process over `repeat` runs, and its peak memory (MB)."""
    times, peak = [], 0.0
    for _ in range(repeat):
        seconds, memory, _ = run(command)
        times.append(seconds)
        peak = max(peak, memory)
    return min(times), peak


def linear_growth(rows: list[Row]) -> None:
    """The marginal cost per parameter of `derive key`: each key's whole process, best of 3,
    less the 2-2-1 example's process (start-up, imports, a six-weight key), divided by the
    parameters. Taken at 372 and 10,290 parameters in the same run; a derivation that is
    linear keeps the two within 1.3x."""
    with tempfile.TemporaryDirectory() as folder:
        builder = SPEC_BUILDER + """
import json, sys
sizes = tuple(int(s) for s in sys.argv[2:])
json.dump(spec(sizes), open(sys.argv[1], "w"))
"""
        base, _ = best_process([PYTHON, "-m", "derive", "key", "examples/2-2-1-linear-mse.yaml", "-o", f"{folder}/base.json"])
        measured = {}
        for sizes in [(4, 8, 8, 8, 3), (4, 12, 12, 12, 3), (4, 24, 24, 24, 3), (4, 70, 70, 70, 3)]:
            spec_file = f"{folder}/{'-'.join(map(str, sizes))}.json"
            subprocess.run([PYTHON, "-c", builder, spec_file, *map(str, sizes)], check=True, cwd=ROOT)
            seconds, peak = best_process([PYTHON, "-m", "derive", "key", spec_file, "-o", f"{folder}/key.json"])
            parameters = sum(a * b for a, b in zip(sizes, sizes[1:]))
            measured[parameters] = (seconds, peak)
    (small_s, small_peak), _, (mid_s, _), (large_s, large_peak) = measured.values()
    _, _, mid_p, large_p = measured
    rows.append(Row("3a. key of 4-8-8-8-3 (184 parameters), whole process", small_s, 3.0, "s", f"2-2-1 example's process: {base:.2f} s"))
    per_small = (measured[372][0] - base) / 372
    per_large = (large_s - base) / large_p
    per_mid = (mid_s - base) / mid_p
    # A marginal cost at or below 0 is the machine's noise swamping the small key: no ratio.
    rows.append(Row("3b. marginal cost per parameter, 10,290 / 372 parameters (best of 3, less the 2-2-1 process)",
                    per_large / per_small if per_small > 0 else float("nan"), 1.3, "x",
                    f"{per_small * 1000:.2f} ms at 372, {per_mid * 1000:.2f} ms at {mid_p}, {per_large * 1000:.2f} ms at {large_p}"))
    rows.append(Row(f"3d. key of 4-70-70-70-3 ({large_p} parameters), whole process", large_s, 15.0, "s", f"peak {large_peak:.0f} MB"))
    rows.append(Row("6a. peak memory of 3a", small_peak, 300, "MB"))


def class_packs(rows: list[Row], counts: tuple[int, ...] = (1000, 5000)) -> None:
    """`derive variants --format pdf`: every worksheet in one PDF and every key in another,
    compiled in chunks on both cores and merged, as one whole process each (one run: the
    5,000-version pack takes minutes)."""
    bounds = {1000: 45.0}
    for count in counts:
        with tempfile.TemporaryDirectory() as folder:
            seconds, peak, _ = run([PYTHON, "-m", "derive", "variants", "examples/2-2-1-linear-mse.yaml", "--count", str(count),
                                    "--seed", "1", "--format", "pdf", "-o", folder])
            pack = Path(folder) / "2-2-1-linear-mse-variants"
            pages = {name: _pdf_pages(pack / f"{name}.pdf") for name in ("worksheets", "keys")}
        note = f"worksheets.pdf {pages['worksheets']} pages, keys.pdf {pages['keys']} pages; CPU {CPU_SECONDS[-1]:.0f} s; peak {peak:.0f} MB"
        rows.append(Row(f"5. class pack: {count} versions, worksheets and keys as PDF, both cores", seconds,
                        bounds.get(count), "s", note if count in bounds else note + "; bound: completes without error"))


def _pdf_pages(path: Path) -> int:
    import pikepdf

    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


def _class_of(folder: str, count: int) -> tuple[str, str]:
    """30 versions from `derive variants` and `count` realistic rows answering them
    (benchmarks/submissions.py: every row a different sheet, planted mistakes); not timed."""
    subprocess.run([PYTHON, "-m", "derive", "variants", "examples/2-2-1-linear-mse.yaml", "--count", "30", "--seed", "2026",
                    "--format", "md", "-o", folder], check=True, cwd=ROOT, capture_output=True)
    keys, submissions = f"{folder}/2-2-1-linear-mse-variants", f"{folder}/class.csv"
    subprocess.run([PYTHON, "benchmarks/submissions.py", keys, str(count), submissions], check=True, cwd=ROOT)
    return keys, submissions


def grading_at_scale(rows: list[Row], count: int = 100_000) -> None:
    """`derive grade` of `count` realistic rows as one whole process, with the default
    feedback (none at this size)."""
    with tempfile.TemporaryDirectory() as folder:
        keys, submissions = _class_of(folder, count)
        seconds, peak, _ = run([PYTHON, "-m", "derive", "grade", keys, submissions, "-o", f"{folder}/grades"])
    rows.append(Row(f"6. grading {count:,} realistic rows (30 versions, every row different), default --feedback (none)",
                    seconds, 60.0, "s", f"CPU {CPU_SECONDS[-1]:.0f} s (user + system, every process)"))
    rows.append(Row("6a. peak memory of 6 (the process and its workers together)", peak, 1000.0, "MB"))


def grading_with_pages(rows: list[Row], count: int = 100_000) -> None:
    """The same class graded with every feedback page asked for (not a target)."""
    with tempfile.TemporaryDirectory() as folder:
        keys, submissions = _class_of(folder, count)
        seconds, peak, _ = run([PYTHON, "-m", "derive", "grade", keys, submissions, "-o", f"{folder}/grades", "--feedback", "md,html"])
    rows.append(Row(f"6b. the same with --feedback md,html ({2 * count:,} pages; not a target)", seconds, None, "s",
                    f"CPU {CPU_SECONDS[-1]:.0f} s; peak {peak:.0f} MB"))


def naive_comparison(rows: list[Row], budget: float) -> None:
    ours_code = SPEC_BUILDER + """
import time, derive
start = time.perf_counter()
problem = derive.load(spec((4, 8, 8, 3)))
problem.key()
print(time.perf_counter() - start)
"""
    naive_code = SPEC_BUILDER + f"""
import time, sympy, derive
problem = derive.load(spec((4, 8, 8, 3)))
d = problem.derivation
start = time.perf_counter()
loss = d.inline(problem.network.loss_symbol)
done = 0
for parameter in problem.network.parameters:
    float(sympy.diff(loss, d.primitives[parameter.name]).subs(d.primitive_values))
    done += 1
    if time.perf_counter() - start > {budget}:
        break
print(time.perf_counter() - start, done, len(problem.network.parameters))
"""
    ours = statistics.median(float(run(ours_code)[2]) for _ in range(3))
    seconds, done, total = run(naive_code)[2].split()
    naive, done, total = float(seconds), int(done), int(total)
    finished = done == total
    ratio = naive / ours
    note = f"ours {ours:.3f} s; naive {naive:.0f} s for {done} of {total} parameters" + ("" if finished else " (stopped at the budget: the ratio is a lower bound)")
    rows.append(Row("3c. naive sympy.diff per parameter / ours, 4-8-8-3 (inverted: bound is 1/50)", 1 / ratio, 1 / 50, "x", note))


def matrix_against_torch(rows: list[Row]) -> None:
    code = """
import time, numpy as np, torch
from derive.engine.matrix import random_network
from derive.spec.schema import parse_spec
sizes = [784, 100, 10]
spec = parse_spec({"layers": [{"units": 100, "activation": "sigmoid", "bias": "per_unit"}, {"units": 10, "activation": "softmax", "bias": "per_unit"}], "loss": "cross_entropy",
                   "data": {"inputs": "x.npy", "targets": "y.npy"}, "weight_seed": 0, "learning_rate": 0.1})
net = random_network(spec, sizes, 0)
rng = np.random.default_rng(1)
x = rng.normal(size=(784, 64)); y = np.eye(10)[:, rng.integers(0, 10, size=64)]
def ours():
    return net.gradients(x, y)
w = [torch.tensor(a, requires_grad=True) for a in net.weights]
b = [torch.tensor(a, requires_grad=True) for a in net.biases]
tx, ty = torch.tensor(x), torch.tensor(y)
def theirs():
    for p in w + b:
        p.grad = None
    h = torch.sigmoid(w[0] @ tx + b[0])
    logits = w[1] @ h + b[1]
    loss = -(ty * torch.log_softmax(logits, dim=0)).sum() / 64
    loss.backward()
    return loss
mine, ref = ours(), theirs()
error = max(float(np.abs(mine.weights[i] - w[i].grad.numpy()).max()) for i in range(2))
def best(f, n=30):
    times = []
    for _ in range(n):
        t = time.perf_counter(); f(); times.append(time.perf_counter() - t)
    return sorted(times)[n // 2]
for _ in range(5):
    ours(); theirs()
a, t = best(ours), best(theirs)
print(error, a, t)
"""
    try:
        _, peak, out = run(code)
    except RuntimeError as error:
        if "No module named 'torch'" in str(error):
            rows.append(Row("4. matrix form vs PyTorch (784-100-10, batch 64)", float("nan"), 2.0, "x", "skipped: pip install torch==2.13.0"))
            return
        raise
    error, ours, theirs = map(float, out.split())
    rows.append(Row("4a. matrix form vs PyTorch autograd: max |difference| of dL/dW", error, 1e-10, "", "float64"))
    rows.append(Row("4b. matrix form time / PyTorch time, one gradient", ours / theirs, 2.0, "x", f"{ours * 1000:.2f} ms vs {theirs * 1000:.2f} ms"))
    rows.append(Row("6b. peak memory of 4", peak, 1000, "MB"))


STEPS = {
    "cold_start": cold_start,
    "batch": batch,
    "linear_growth": linear_growth,
    "matrix_against_torch": matrix_against_torch,
    "naive_comparison": None,  # takes its budget: set in main
    "class_pack_1000": lambda rows: class_packs(rows, (1000,)),
    "class_pack_5000": lambda rows: class_packs(rows, (5000,)),
    "grading_at_scale": grading_at_scale,
    "grading_with_pages": grading_with_pages,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument("--naive-budget", type=float, default=120.0, help="seconds the naive sympy.diff run may take")
    parser.add_argument("--only", default=",".join(STEPS), help=f"comma-separated steps to run ({', '.join(STEPS)}); "
                        "the other steps' rows are kept from the JSON file, so a long run can be taken in parts")
    args = parser.parse_args()
    chosen = [name for name in args.only.split(",") if name]
    unknown = [name for name in chosen if name not in STEPS]
    if unknown:
        parser.error(f"unknown step {', '.join(unknown)}; the steps are {', '.join(STEPS)}")
    kept: list[dict[str, object]] = []
    if args.json.exists() and set(chosen) != set(STEPS):
        kept = [row for row in json.loads(args.json.read_text(encoding="utf-8"))["rows"] if row.get("step") not in chosen]
    measured: list[dict[str, object]] = []
    for name in STEPS:
        if name not in chosen:
            continue
        print(f"running {name} ... (load average {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)
        rows: list[Row] = []
        load_before = os.getloadavg()[0]
        try:
            if name == "naive_comparison":
                naive_comparison(rows, args.naive_budget)
            else:
                STEPS[name](rows)  # type: ignore[misc]
        except RuntimeError as error:  # one step failing is a row of the table, not the end of the run
            print(error, file=sys.stderr)
            rows.append(Row(f"{name}: failed", float("nan"), 0.0, "", str(error).splitlines()[-1][:200]))
        load = f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
        measured += [asdict(row) | {"met": row.met, "step": name, "load": load, "taken": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())} for row in rows]
        _write(args.json, kept, measured)  # after every step, so a long run stopped midway keeps what it measured


def _write(path: Path, kept: list[dict[str, object]], measured: list[dict[str, object]]) -> None:
    order = list(STEPS)
    table = sorted(kept + measured, key=lambda row: order.index(str(row.get("step", order[0]))))
    width = max(len(str(row["target"])) for row in table)
    print(f"{'target':<{width}}  {'measured':>10}  {'bound':>8}  met  note")
    for row in table:
        met = {True: "yes", False: "NO ", None: "-  "}[row["met"]]  # type: ignore[index]
        bound = f"{row['bound']:>8.4g}" if row["bound"] is not None else f"{'-':>8}"
        print(f"{row['target']:<{width}}  {row['measured']:>10.4g}  {bound}  {met:3}  {row['note']} (load {row.get('load', '?')})")
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine()}
    path.write_text(json.dumps({"machine": machine, "rows": table}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
