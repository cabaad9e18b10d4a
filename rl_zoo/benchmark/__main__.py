"""``python -m rl_zoo.benchmark --cell CELL_JSON --parent PID [--record-video] [--cores N]``: the process of one cell (started by the grid).

It ends when process PID (the grid) ends, and holds its cell folder's lock while it runs
(``rl_zoo.benchmark.cells``). It exits as `rl-zoo train` does: 0 done, 2 a bad config or file (or a
cell folder another process holds), 3 a non-finite value, with one line saying why (``cells.CELL_ERROR``),
which the grid's FAILED line quotes. Users run grids with ``rl-zoo benchmark``.
"""

import argparse
import os

from rl_zoo import interrupt
from rl_zoo.benchmark.cells import cell_main, die_with_parent, split_cpu_for_cell
from rl_zoo.cli import exit_now
from rl_zoo.driver import program_store

parser = argparse.ArgumentParser(prog="python -m rl_zoo.benchmark",
                                 description="the process of one benchmark cell (internal; use `rl-zoo benchmark`)")
parser.add_argument("--cell", required=True, metavar="CELL_JSON", help="the cell's cell.json")
parser.add_argument("--parent", type=int, default=None, metavar="PID",
                    help="end when this process ends (default: the process that started this one)")
parser.add_argument("--record-video", action="store_true", help="record the cell's clip at the end (rl_zoo.benchmark.clips)")
parser.add_argument("--cores", type=int, default=None, help="CPU cores the cell's seeds may be split over (default: all)")
args = parser.parse_args()
split_cpu_for_cell(args.cell, args.cores)  # before anything starts JAX
program_store.enable()  # a process of its own, as `rl-zoo train`'s
die_with_parent(args.parent if args.parent is not None else os.getppid())
with interrupt.installed():  # a swallowed Ctrl-C stops the cell at its next checkpoint, as in `rl-zoo train`
    status = cell_main(args.cell, args.record_video)
exit_now(status)  # its files are written and closed: skip the interpreter's teardown
