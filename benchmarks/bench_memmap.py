"""One training epoch read through the memory-mapped cache against the in-memory array, on a large identity folder.

    .venv/bin/python benchmarks/bench_memmap.py [--images 100000] [--size 112] [--folder /tmp/rtml-bench-faces]

Builds (once) a synthetic identity folder of `--images` JPEG faces at `--size` x `--size` (20 per person), decodes it
into rtml's cache (once), then runs one epoch of `train_source` twice, each in a fresh process: once with the faces
in memory (`mmap=False`), once through the memory map (`mmap=True`). Each prints its images per second and its peak
resident memory (`ru_maxrss`); the array's size is printed for scale. The network is deliberately small (width 8),
so the figure is about reading faces, not about the network (width 8: narrower ones crash PyTorch's CPU kernels here).
"""
import argparse, json, os, resource, subprocess, sys, time
from pathlib import Path

import numpy as np


def build_folder(folder, n_images, size, per_person=20, seed=0):
    "Write `n_images` synthetic faces as `folder/<person>/<person>_NNNN.jpg`, 200 people at a time (memory stays small)."
    from PIL import Image
    from rtml.data import synthetic_faces
    folder = Path(folder)
    if (folder / 'done').is_file(): return
    people, t0 = n_images // per_person, time.time()
    for start in range(0, people, 200):
        k = min(200, people - start)
        faces = synthetic_faces(n_people=k, images=(per_person, per_person), size=size, seed=seed + start)
        for img, p, num in zip(faces.images, faces.person, faces.number):
            name = f"Person_{start + p:06d}"
            (folder / name).mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(folder / name / f"{name}_{num:04d}.jpg", quality=90)
        print(f"  {start + k} of {people} people written ({time.time() - t0:.0f} s)", flush=True)
    (folder / 'done').write_text('ok')


def measure(folder, size, mode, batch, width):
    "One epoch of train_source, in this process: (images per second, peak resident MiB, array MiB)."
    import torch
    from rtml.data import load_identity_folder
    from rtml.training import SourceConfig, train_source
    torch.set_num_threads(os.cpu_count() or 1)
    data = load_identity_folder(folder, size=size, progress=False, mmap=(mode == 'mmap'), pairs_per_fold=10)
    cfg = SourceConfig(epochs=1, width=width, emb_dim=32, batch_size=batch, augment=False, device='cpu', amp=False)
    t0 = time.time()
    _, hist = train_source(data, np.arange(len(data)), cfg, progress=False)
    seconds = time.time() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {'mode': mode, 'images': len(data), 'images_per_s': (len(data) // batch * batch) / seconds, 'epoch_s': seconds,
            'peak_rss_mib': peak, 'array_mib': data.images.nbytes / 2 ** 20, 'mapped': isinstance(data.images, np.memmap)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--images', type=int, default=100_000, help='faces in the folder (default: 100000)')
    ap.add_argument('--size', type=int, default=112, help='face side in pixels (default: 112)')
    ap.add_argument('--folder', default='/tmp/rtml-bench-faces', help='where the folder is built (default: /tmp/rtml-bench-faces)')
    ap.add_argument('--batch', type=int, default=256, help='batch size (default: 256)')
    ap.add_argument('--width', type=int, default=8, help="the network's first-stage channels (default: 8)")
    ap.add_argument('--measure', choices=['memory', 'mmap'], help=argparse.SUPPRESS)
    a = ap.parse_args()
    folder = Path(a.folder) / f"{a.images}x{a.size}"
    if a.measure:
        print(json.dumps(measure(folder, a.size, a.measure, a.batch, a.width))); return
    print(f"building {folder} ({a.images} faces at {a.size}x{a.size}) if needed", flush=True)
    build_folder(folder, a.images, a.size)
    print("decoding into the cache once (not timed below)", flush=True)
    from rtml.data import load_identity_folder
    load_identity_folder(folder, size=a.size, progress=False, mmap=True, pairs_per_fold=10)
    rows = []
    for mode in ('memory', 'mmap'):  # each in a fresh process: peak memory is that process's own
        out = subprocess.run([sys.executable, __file__, '--measure', mode, '--images', str(a.images), '--size', str(a.size),
                              '--folder', a.folder, '--batch', str(a.batch), '--width', str(a.width)], capture_output=True, text=True)
        if out.returncode: print(out.stderr[-3000:]); sys.exit(1)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"\n{rows[0]['images']} faces at {a.size}x{a.size}, uint8 array {rows[0]['array_mib']:.0f} MiB; one epoch of train_source "
          f"(width {a.width}, batch {a.batch}, {os.cpu_count()} CPU threads)")
    for r in rows:
        print(f"{'in memory' if r['mode'] == 'memory' else 'memory map':<12} {r['images_per_s']:8.1f} images/s  epoch {r['epoch_s']:6.1f} s  "
              f"peak resident {r['peak_rss_mib']:7.0f} MiB ({r['peak_rss_mib'] / r['array_mib']:.2f}x the array)")


if __name__ == '__main__':
    main()
