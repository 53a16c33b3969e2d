"""Data and verification speed: first decode of LFW, cached reload, and verification reports.

    python benchmarks/bench_data.py [--lfw PATH]        # LFW from --lfw or RTML_LFW; synthetic figures always

Prints figures; asserts nothing. The first decode uses a fresh cache folder so it really decodes."""
import argparse, os, platform, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np


def timed(fn, repeat=1):
    best, out = float('inf'), None
    for _ in range(repeat):
        t = time.perf_counter(); out = fn(); best = min(best, time.perf_counter() - t)
    return best, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--lfw', default=os.environ.get('RTML_LFW'))
    ap.add_argument('--size', type=int, default=64)
    args = ap.parse_args()
    import torch
    from sklearn.metrics import roc_auc_score, roc_curve
    from rtml.data import synthetic_faces, load_lfw
    from rtml.verification import verification_report
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")

    t, syn = timed(lambda: synthetic_faces())
    print(f"synthetic faces ({len(syn)} images {args.size}x{args.size}, {len(syn.names)} people): {t:.2f} s")

    if args.lfw:
        with tempfile.TemporaryDirectory() as cache:
            os.environ['RTML_CACHE'] = cache
            t, lfw = timed(lambda: load_lfw(args.lfw, size=args.size, progress=False))
            print(f"LFW first decode ({len(lfw)} images -> {args.size}x{args.size}): {t:.1f} s")
            # a cached reload in a fresh process, as a user's next session sees it (imports excluded)
            code = ("import time; from rtml.data import load_lfw; t=time.perf_counter(); "
                    f"load_lfw({args.lfw!r}, size={args.size}, progress=False); print(time.perf_counter()-t)")
            out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=os.environ, check=True)
            print(f"LFW cached reload (new process): {float(out.stdout):.2f} s")
            pairs = lfw.view2_pairs()
            same, folds = pairs.same, pairs.fold
    else:
        print("LFW: skipped (no --lfw and no RTML_LFW)")
        same = np.tile(np.r_[np.ones(300, bool), np.zeros(300, bool)], 10); folds = None

    rng = np.random.default_rng(0)
    s = rng.normal(same * 1.5, 1)
    t, rep = timed(lambda: verification_report(s, same, folds), repeat=5)
    t_sk, _ = timed(lambda: (roc_curve(same, s), roc_auc_score(same, s)), repeat=5)
    print(f"View 2 report, {len(s)} pairs (10-fold accuracy, ROC, AUC, EER, TAR@FAR): {1000 * t:.1f} ms "
          f"(scikit-learn roc_curve + roc_auc_score alone: {1000 * t_sk:.1f} ms)")
    big = rng.random(1_000_000) < .5
    sb = rng.normal(big * 1.5, 1)
    t, _ = timed(lambda: verification_report(sb, big), repeat=2)
    t_sk, _ = timed(lambda: (roc_curve(big, sb), roc_auc_score(big, sb)), repeat=2)
    print(f"report, 1,000,000 pairs: {t:.2f} s (scikit-learn roc_curve + roc_auc_score alone: {t_sk:.2f} s)")


if __name__ == '__main__':
    main()
