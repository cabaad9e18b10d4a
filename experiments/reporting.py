"""The experiments' generated text: the index (``experiments/README.md``), each experiment's
``finding.md`` and README from its template, and the number formatters of those READMEs. The
training, seeds, figures and command-line helpers are in ``experiments/common.py``.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np

from rl_zoo.runs import atomic_write_text


def is_experiment_folder(out: Path, here: Path) -> bool:
    """Whether ``out`` is the experiment's own folder ``here`` (however it was spelled): only then does
    a run rebuild the experiments index."""
    return Path(out).resolve() == Path(here).resolve()


def finish_index(out: Path, here: Path) -> None:
    """Rebuild ``experiments/README.md`` (:func:`write_index`) after a run into the experiment's own folder."""
    if is_experiment_folder(out, here):
        write_index()


EXPERIMENTS = Path(__file__).resolve().parent
#: index order; experiment folders not listed here follow alphabetically
INDEX_ORDER = ["overestimation", "stability", "trpo_cost", "clip_vs_kl", "overall"]
BUDGET_MIN = 20

INDEX_INTRO = """\
# Experiments

Each folder asks one question and answers it with one command, run from the repository root. The
command trains everything it needs (seeds, and swept hyperparameters where there are any, vmapped
in compiled JAX programs) and writes its figures, small CSVs of the plotted numbers, a `README.md`
and a one-line `finding.md` beside itself (rlhf: its `results/results.md`; its README and finding are
written by hand from it), then rebuilds this index (`reporting.write_index()`). {timing}
`--quick` runs a small smoke version into `/tmp`.
"""

INDEX_CONVENTIONS = """\
Layout of an experiment (a package, `experiments/<name>/`):
* `compute.py` trains and measures (a small function per training program: a sweep could replace
  it), `plots.py` draws the figures, `report.py` fills in `readme_template.md`, `run.py` is the
  command line (`--quick`; where the experiment has them, `--replot` from the raw arrays of the last
  run, `raw.npz`, not in git, and `--report`, which rewrites the README and finding from the recorded
  numbers: `python -m experiments.<name>.run --help` lists them).
* The README's tables and numbers are generated, and so are the verdicts that follow from the
  intervals (overlap, significance, which is larger), so that a rerun cannot leave a stale one
  (overestimation, clip_vs_kl); the rest of the interpretation is written by hand in
  `readme_template.md`, after the run it describes. When a rerun changes the numbers, check the
  words against the tables.

Conventions:
* Bands and error bars are 95% intervals over seeds: percentile bootstrap (`rl_zoo.stats`)
  unless a figure says otherwise. The tabular overestimation figure uses t-intervals over 10,000
  seeds; collapse fractions use Wilson intervals.
* Returns are greedy-policy evaluations on separate env copies.
* Each script records its configs and wall time (`run_info.json` or `summary.json`; rlhf: a line per
  part in `results/run.md`, and its `run_info.json`, which the index reads, is written by hand from them).
* Shared helpers live in `common.py` (bands, training, seeds, figures, the command line) and
  `reporting.py` (number formatters, README templates, this index).
"""


def run_record(folder: Path) -> dict:
    """The recorded run info of an experiment folder (``run_info.json`` or ``summary.json``), or ``{}``."""
    for name in ("run_info.json", "summary.json"):
        path = Path(folder) / name
        if path.exists():
            try:
                return json.loads(path.read_text())
            except ValueError:
                continue
    return {}


def fmt_minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def load_at_start(machine_line: str | None) -> str | None:
    """The 1-minute load average from a :func:`machine` line (``None`` if it has none)."""
    if not machine_line or "load average at start" not in machine_line:
        return None
    return machine_line.split("load average at start", 1)[1].split(",")[0].strip()


def cpu_of(machine_line: str | None) -> str | None:
    """The CPU a :func:`machine` line names, shortened ("AMD EPYC", "Intel Xeon"); ``None`` for a line of
    before it named one ("x86_64, 2 CPU cores, ...")."""
    if not machine_line or " (" not in machine_line.split(",")[0]:
        return None
    return machine_line.split(" (", 1)[0].replace("(R)", "").replace(" Processor", "").strip()


def write_index(root: Path | None = None) -> Path:
    """Rebuild ``experiments/README.md``: one row per experiment folder (one with a ``run.py``), its
    command, its recorded wall time (``wall_s`` of ``run_info.json`` / ``summary.json``) and the one
    line of ``finding.md`` its run.py wrote ("not run yet" where there is none)."""
    root = Path(root) if root is not None else EXPERIMENTS
    folders = [p.parent.name for p in root.glob("*/run.py")]
    folders = [n for n in INDEX_ORDER if n in folders] + sorted(n for n in folders if n not in INDEX_ORDER)
    rows, walls = [], []
    for name in folders:
        folder = root / name
        finding_path = folder / "finding.md"
        finding = " ".join(finding_path.read_text().split()) if finding_path.exists() else ""
        if not finding:
            finding, time_here = "not run yet", "–"
        else:
            rec = run_record(folder)
            wall = rec.get("wall_s")
            if isinstance(wall, (int, float)):
                walls.append((name, float(wall), load_at_start(rec.get("machine"))))
                cpu = cpu_of(rec.get("machine"))
                time_here = fmt_minutes(wall) + (f" ({cpu})" if cpu else "")
            else:
                time_here = "not recorded"
        rows.append(f"| [{name}]({name}/) | `python -m experiments.{name}.run` | {time_here} | {finding} |")
    if walls:
        over = [w for w in walls if w[1] > BUDGET_MIN * 60]
        if over:
            timing = ("The times are the last full run of each, on a 2-core CPU (named beside the time where "
                      "recorded), some shared with other jobs; "
                      + "; ".join(f"{n} took {fmt_minutes(w)}, over the {BUDGET_MIN}-minute budget"
                                  + (f" (load average {ld} at its start)" if ld else "") for n, w, ld in over) + ".")
        else:
            timing = (f"Every run below finished in under {BUDGET_MIN} minutes on a 2-core CPU (named beside the "
                      "time where recorded) shared with other jobs (time here: the last full run, recorded by the script).")
    else:
        timing = "No full run has been recorded yet."
    intro = INDEX_INTRO.format(timing=timing).split("\n", 2)
    intro = "\n".join(intro[:2]) + "\n" + textwrap.fill(" ".join(intro[2].split()), 100) + "\n"
    text = (intro + "\n"
            + "| experiment | command | time here | finding |\n|---|---|---:|---|\n"
            + "\n".join(rows) + "\n\n" + INDEX_CONVENTIONS)
    path = root / "README.md"
    path.write_text(text)
    print(f"wrote {path}")
    return path


def write_finding(folder: Path, line: str, smoke: bool = False, tuning: bool = False) -> str:
    """``finding.md``: the experiment's finding in one line (for the index); returns the line. A smoke
    run's (``--quick``) says so first: its hand-worded claims were written for the full run's numbers; so does
    a run on ``tuning`` seeds (``common.tuning_seeds_said``)."""
    path = Path(folder) / "finding.md"
    said = ("Smoke run (`--quick`), not a result: " if smoke else "") + ("On tuning seeds, not held out: " if tuning else "")
    line = " ".join((said + line).split())
    atomic_write_text(path, line + "\n")
    print(f"wrote {path}")
    return line


def fill_template(template: Path, path: Path, fields: dict, banner: str = "") -> Path:
    """Write ``template`` (markdown with ``{field}`` slots; ``{{``/``}}`` for literal braces) filled in
    with ``fields`` to ``path``. A slot without a field is an error that names the template. The slot
    ``{quick_flag}`` (after the command on a README's first lines) is " --quick" for a smoke run (a
    ``quick_note``), else empty, unless the report gives it; ``{report_flags}`` (after a ``--report`` or
    ``--replot`` line) is `` --out FOLDER`` where the README is written outside the template's folder (a quick
    run's, an ``--out``'s): without it that line rewrote the committed README. ``banner`` goes after the
    ``quick_note`` (``common.tuning_banner``: a run on tuning seeds)."""
    import shlex

    text = Path(template).read_text()
    elsewhere = Path(path).resolve().parent != Path(template).resolve().parent
    fields = {"quick_flag": " --quick" if fields.get("quick_note") else "",
              "report_flags": f" --out {shlex.quote(str(Path(path).parent))}" if elsewhere else "", **fields}
    fields["quick_note"] = fields.get("quick_note", "") + banner
    try:
        filled = text.format_map(fields)
    except KeyError as e:
        raise KeyError(f"{template}: the template has the slot {e} but the report gives no such field; "
                       "add it to the report's fields() or remove it from the template") from None
    atomic_write_text(path, filled)
    print(f"wrote {path}")
    return Path(path)


def num(x: float, sig: int = 3) -> str:
    """A number for prose and tables: ``sig`` significant digits (integers from 100 on), a true minus."""
    x = float(x)
    if not np.isfinite(x):
        return "n/a"
    s = f"{x:.0f}" if abs(x) >= 10 ** (sig - 1) else f"{x:.{sig}g}"
    if "e" in s:  # tiny values: keep them readable
        s = f"{x:.1e}"
    return s.replace("-", "−")


def intervals_overlap(a, b) -> bool:
    """Whether two intervals ``(point, low, high)`` overlap (which does not show their means equal). An interval
    with a NaN (a seed's non-finite value: ``stats.point_ci`` gives ``(nan, nan, nan)``) is not apart from any:
    it was read as "do not overlap", a separation, in the clip_vs_kl and overestimation verdicts."""
    if not interval_known(a) or not interval_known(b):
        return True
    return a[1] <= b[2] and b[1] <= a[2]


def interval_known(t) -> bool:
    """Whether an interval ``(point, low, high)`` has no NaN (one seed's NaN makes it ``(nan, nan, nan)``)."""
    return not any(np.isnan(float(x)) for x in t)


def signed(x: float, spec: str = ".2f") -> str:
    """``format(x, spec)`` with a true minus (``spec`` "+.1f" adds the sign of positive numbers too)."""
    return format(x, spec).replace("-", "\u2212")


def short_sci(x: float) -> str:
    """A swept value as the tables show it: 1e-4, 3e-3, 0.1 ("nan", "inf" as they are)."""
    if x >= 0.1 or not np.isfinite(x) or x <= 0:
        return f"{x:g}"
    m, e = f"{x:.0e}".split("e")
    return f"{m}e{int(e)}"


def sig2(x: float) -> str:
    """Two significant digits, short scientific below 0.01 (KL values): 2e-6, 1.4e-3, 0.026, 0.56 (a run whose KL
    went NaN: "nan"; 0 and below as they are)."""
    if x >= 0.01 or not np.isfinite(x) or x <= 0:
        return f"{x:.2g}"
    m, e = f"{x:.1e}".split("e")
    m = m.rstrip("0").rstrip(".")
    return f"{m}e{int(e)}"


def f2(x: float) -> str:
    """Two decimals and a true minus, never "−0.00" (normalised scores)."""
    t = f"{float(x):.2f}"
    return "0.00" if t == "-0.00" else t.replace("-", "−")


def pow2(x: float) -> str:
    """A power of 2 as a short number: 4, 1/8, 2^-9 (the adaptive-KL beta only takes values 2^k); "n/a" where
    ``x`` is not a positive finite number (a run that went NaN)."""
    if not np.isfinite(x) or x <= 0:
        return "n/a"
    k = int(round(np.log2(x)))
    return str(2 ** k) if k >= 0 else (f"1/{2 ** -k}" if k > -8 else f"2^{k}")


def and_list(items) -> str:
    """"a", "a and b", "a, b and c"."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def config_field(config: str, field: str) -> str:
    """A field of a config as ``run_info.json`` records it (``str(config)``), "?" if it is not there."""
    import re

    m = re.search(rf"\b{field}=([^,)]+)", config)
    return m.group(1) if m else "?"


def pct(x: float) -> str:
    return f"{100 * float(x):.0f}%"


#: seeds from which an interval over seeds is a 95% percentile bootstrap's; below, a bootstrap of 2-3 values is
#: their range, and one seed has none
BOOTSTRAP_SEEDS = 4


def interval_words(seeds: int) -> dict[str, str]:
    """How a report names its interval over ``seeds`` seeds (a smoke run's 1-2 seeds were "95% CI"s): ``ci`` for
    a table's header, ``band`` and ``bands`` (noun phrases: "the band shows {band}") for a caption, ``legend`` for a
    figure's."""
    if seeds >= BOOTSTRAP_SEEDS:
        return dict(ci="95% CI", band="a 95% percentile-bootstrap interval over seeds",
                    bands="95% percentile-bootstrap intervals over seeds", legend="95% band")
    if seeds >= 2:
        return dict(ci="range of the seeds", band="the range of the seeds", bands="the ranges of the seeds",
                    legend="range of the seeds")
    return dict(ci="one seed: no interval", band="no interval (one seed)", bands="no intervals (one seed)", legend="one seed")


def value_interval(m: float, lo: float, hi: float, seeds: int, spec: str = ".0f", mean_spec: str | None = None) -> str:
    """``"+317 [+310, +320]"`` (signed), or the value alone for one seed (whose interval is the value)."""
    mean = signed(m, mean_spec or spec)
    return mean if seeds < 2 else f"{mean} [{signed(lo, spec)}, {signed(hi, spec)}]"


def ci_text(m: float, lo: float, hi: float, sig: int = 3, brackets: str = "()") -> str:
    return f"{num(m, sig)} {brackets[0]}{num(lo, sig)}, {num(hi, sig)}{brackets[1]}"


def run_line(wall_s: float, machine_line: str) -> str:
    """The README's run-time sentence from the recorded wall time and :func:`machine` line."""
    load = load_at_start(machine_line)
    cores = machine_line.split(" CPU cores")[0].split(", ")[-1] if "CPU cores" in machine_line else "?"
    over = "" if wall_s <= BUDGET_MIN * 60 else f" This is over the {BUDGET_MIN}-minute budget."
    cpu = f" of an {cpu_of(machine_line)}" if cpu_of(machine_line) else ""
    return (f"{wall_s:.0f} s ({fmt_minutes(wall_s)}) for the whole script, on {cores} CPU cores{cpu} (1-minute load "
            f"average {load if load else '?'} at the start; above 1, other work shared them).{over}")


def write_md(path: Path, lines: list[str], width: int = 100) -> Path:
    """Write markdown lines, wrapping prose and bullet lines at ``width`` (tables, code blocks,
    headings, images and comments are left as they are)."""
    out = []
    for line in lines:
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if (len(line) <= width or not stripped or line.startswith("    ") and stripped[:2] not in ("* ", "1.", "2.", "3.")
                or stripped[0] in "|#!<"):
            out.append(line)
            continue
        bullet = stripped[:2] if stripped[:2] in ("* ", "- ") else (stripped[:3] if stripped[:1].isdigit() and stripped[1:3] == ". " else "")
        out.append(textwrap.fill(stripped, width, initial_indent=" " * indent,
                                 subsequent_indent=" " * (indent + len(bullet)), break_on_hyphens=False,
                                 break_long_words=False))
    path = Path(path)
    path.write_text("\n".join(out) + "\n")
    print(f"wrote {path}")
    return path
