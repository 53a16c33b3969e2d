"""How long each notebook takes top to bottom, as JupyterLab's Run All runs it: a fresh Jupyter kernel, every
cell in order, twice: the lesson alone (the cells marked `#| solution` taken out, as in a student's copy) and then
with its solutions. Prints a markdown table; the course plan in nbs/12_course.ipynb quotes it.
The run starts from an empty cache folder (RTML_CACHE, a temporary folder unless given), as a student's first
run does: 05_robust_source's lesson trains the two teaching sources, which later notebooks read back.

    python benchmarks/bench_notebooks.py              # every notebook, without real LFW
    python benchmarks/bench_notebooks.py 04 11        # notebooks whose names start with these
    python benchmarks/bench_notebooks.py --lfw PATH   # with real LFW: its cells run too

The explorers are drawn as static figures (RTML_STATIC=1): the same computation as with sliders, no browser.
"""
import argparse, os, platform, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(nb_path, solutions=True, timeout=1800):
    "Seconds to execute one notebook in a fresh kernel (without its solution cells unless `solutions`), and the first error (or None)."
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    nb = nbformat.read(nb_path, as_version=4)
    if not solutions:
        from rtml.course import is_solution  # the cells a student's copy takes out
        nb.cells = [c for c in nb.cells if not is_solution(c)]
    client = NotebookClient(nb, timeout=timeout, kernel_name='python3', resources={'metadata': {'path': str(nb_path.parent)}})
    t0 = time.time()
    try: client.execute(); err = None
    except CellExecutionError as e: err = str(e).strip().splitlines()[-1][:200]
    return time.time() - t0, err


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('only', nargs='*', help='notebook name prefixes (default: all)')
    p.add_argument('--lfw', help='real LFW folder (default: none, the LFW cells do nothing)')
    p.add_argument('--cache', help='cache folder to start from (default: a new, empty temporary folder)')
    args = p.parse_args(argv)
    os.environ['RTML_STATIC'] = '1'
    import tempfile
    os.environ['RTML_CACHE'] = str(Path(args.cache).resolve()) if args.cache else tempfile.mkdtemp(prefix='rtml-bench-cache-')
    if args.lfw: os.environ['RTML_LFW'] = str(Path(args.lfw).resolve())
    else: os.environ.pop('RTML_LFW', None)
    nbs = [f for f in sorted((ROOT / 'nbs').glob('[0-9]*.ipynb')) if not args.only or any(f.name.startswith(o) for o in args.only)]
    if not nbs: sys.exit(f"no notebook in {ROOT / 'nbs'} starts with {', '.join(args.only)}")
    import torch
    print(f"# notebooks top to bottom, {'with LFW' if args.lfw else 'without LFW'}: {platform.node()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__}, {time.strftime('%Y-%m-%d')}\n")
    print('| notebook | lesson (s) | with solutions (s) | result |\n|---|---|---|---|')
    failed = 0
    for f in nbs:
        (lesson, e1), (full, e2) = run(f, solutions=False), run(f)
        err = e1 or e2
        failed += err is not None
        print(f"| {f.stem} | {lesson:.0f} | {full:.0f} | {'ok' if err is None else 'ERROR: ' + err} |", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == '__main__': main()
