"""Execute notebooks top to bottom in a fresh kernel and store their outputs in place, as rtml keeps them.

    python tools/execute.py nbs/02_models.ipynb [nbs/11_visualize.ipynb ...] [--flags slow lfw] [--timeout 1800] [--slowest N]

Cells tagged with a test flag (`#| slow`, `#| lfw`, `#| cuda`, settings.ini's `tst_flags`) are not run unless
named with --flags: they keep the outputs they are stored with (say, the real-LFW cells' outputs when LFW is not
here), so executing a notebook never throws away evidence it cannot make again. Widgets are drawn as static
figures (RTML_STATIC=1), so the stored outputs show in the course site and on GitHub. Run `nbdev_clean` after."""
import argparse, copy, json, os, re, sys, time
from configparser import ConfigParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def flags_of(src):
    "The test flags a cell is tagged with (`#| slow`, `#| lfw`, ...)."
    found = (re.fullmatch(r'#\|\s*(\w+)\s*', line.strip()) for line in src.splitlines())
    return {m.group(1) for m in found if m}


def cell_seconds(cell):
    "Seconds a cell took to run, from the timing nbclient records (None when it did not run)."
    from datetime import datetime
    t = cell.get('metadata', {}).get('execution', {})
    a, b = t.get('iopub.execute_input'), t.get('shell.execute_reply')
    return (datetime.fromisoformat(b.replace('Z', '+00:00')) - datetime.fromisoformat(a.replace('Z', '+00:00'))).total_seconds() if a and b else None


def execute(path, run_flags=(), timeout=1800, slowest=0):
    "Execute `path` in place (cells with a test flag not in `run_flags` keep their stored outputs); returns seconds taken."
    import nbformat
    from nbclient import NotebookClient
    ini = ConfigParser(); ini.read(ROOT / 'settings.ini')
    test_flags = set(ini['DEFAULT'].get('tst_flags', '').split())
    nb = nbformat.read(path, as_version=4)
    run = copy.deepcopy(nb)
    kept = []
    for i, c in enumerate(run.cells):
        if c.cell_type != 'code': continue
        skip = (flags_of(c.source) & test_flags) - set(run_flags)
        if skip: kept.append(i); c.source = ''  # not run here: its stored outputs are put back below
    os.environ['RTML_STATIC'] = '1'
    t0 = time.time()
    NotebookClient(run, timeout=timeout, kernel_name='python3', resources={'metadata': {'path': str(Path(path).parent)}}).execute()
    for i, (old, new) in enumerate(zip(nb.cells, run.cells)):
        if old.cell_type != 'code': continue
        if i not in kept: old.outputs, old.execution_count = new.outputs, new.execution_count
    nbformat.write(nb, path)
    if slowest:
        took = sorted(((cell_seconds(c), i, c.source.splitlines()[0][:70] if c.source else '') for i, c in enumerate(run.cells)
                       if c.cell_type == 'code' and cell_seconds(c) is not None), reverse=True)[:slowest]
        for sec, i, first in took: print(f"  cell {i:>3}: {sec:6.1f} s  {first}")
    return time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('notebooks', nargs='+')
    ap.add_argument('--flags', nargs='*', default=(), help='test flags whose cells run too (say, lfw with RTML_LFW set)')
    ap.add_argument('--timeout', type=int, default=1800, help='seconds a cell may take')
    ap.add_argument('--slowest', type=int, default=0, metavar='N', help='print the N slowest cells of each notebook')
    ap.add_argument('--threads', type=int, default=1, help="torch threads in the kernel; 1, as tests/test_notebooks.py runs "
                    "them, so that the stored numbers are the ones the tests compute (float sums depend on the thread count)")
    args = ap.parse_args()
    os.environ['OMP_NUM_THREADS'] = str(args.threads)
    for p in args.notebooks:
        print(f"{p}: {execute(p, args.flags, args.timeout, args.slowest):.0f} s", flush=True)


if __name__ == '__main__':
    sys.exit(main())
