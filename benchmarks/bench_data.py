"""Data and verification speed: first decode of LFW, cached reload, an epoch of batches from the cache against
decoding the JPEGs with PIL every epoch, and verification reports against scikit-learn.

    python benchmarks/bench_data.py [--lfw PATH]        # LFW from --lfw or RTML_LFW; synthetic figures always

The per-epoch comparison: rtml keeps the decoded faces as one uint8 array and cuts each batch from it
(`train_source`); the usual alternative is a Dataset that opens, crops and resizes every JPEG with PIL each epoch
behind a DataLoader with worker processes. Both deliver the same (128, 3, H, W) float batches in [0, 1] in random
order. Without LFW the JPEGs are synthetic faces written to a temporary folder (small files: PIL's figure is then
flattering). Prints figures; asserts nothing. The first decode uses a fresh cache folder so it really decodes."""
import argparse, os, platform, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np


def timed(fn, repeat=1):
    best, out = float('inf'), None
    for _ in range(repeat):
        t = time.perf_counter(); out = fn(); best = min(best, time.perf_counter() - t)
    return best, out


class PILFaces:
    "A map-style dataset that decodes each face from its JPEG on every access (torchvision ImageFolder's way)."
    def __init__(self, paths, size, crop): self.paths, self.size, self.crop = paths, size, crop
    def __len__(self): return len(self.paths)
    def __getitem__(self, i):
        import torch
        from rtml.data import decode_face
        a, why = decode_face(self.paths[i], self.size, self.crop)
        return torch.tensor(a).permute(2, 0, 1)  # a copy: PIL arrays are read-only


def epoch_figures(images, paths, size, crop, batch=128):
    "Seconds for one epoch of shuffled float batches: from the cached uint8 array, and decoded by PIL with 0 and 2 workers."
    import torch
    x_all = torch.from_numpy(images).permute(0, 3, 1, 2)
    def cached():
        for idx in torch.randperm(len(x_all)).split(batch): x_all[idx].float().div_(255)
    t_cached, _ = timed(cached, repeat=3)
    print(f"one epoch of {len(images)} faces in batches of {batch}, from the cached array: {t_cached:.2f} s "
          f"({len(images) / t_cached:,.0f} faces/s)")
    for workers in (0, 2):
        dl = torch.utils.data.DataLoader(PILFaces(paths, size, crop), batch_size=batch, shuffle=True, num_workers=workers)
        def pil():
            for x in dl: x.float().div_(255)
        t, _ = timed(pil)
        print(f"  the same epoch decoding the JPEGs with PIL, DataLoader with {workers} workers: {t:.2f} s "
              f"({len(images) / t:,.0f} faces/s, {t / t_cached:.0f}x the cached epoch)")


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
        from rtml.data import LFW_CROP, find_lfw
        image_dir = find_lfw(args.lfw)[0]
        epoch_figures(lfw.images, [str(image_dir / f) for f in lfw.files], args.size, LFW_CROP)
    else:
        print("LFW: skipped (no --lfw and no RTML_LFW); the epoch comparison on synthetic faces written as JPEGs")
        from rtml.data import write_face_folder
        with tempfile.TemporaryDirectory() as d:
            root = write_face_folder(syn, d, protocol=False) / 'images'
            paths = [str(root / syn.names[p] / f"{syn.names[p]}_{n:04d}.jpg") for p, n in zip(syn.person, syn.number)]
            epoch_figures(syn.images, paths, args.size, None)
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
