"""Training-step throughput: rtml's source-training loop against a bare PyTorch loop on the same model and data.

    python benchmarks/bench_training.py [--lfw PATH] [--preset quick|full] [--steps 30] [--repeat 3]

Both loops train the same network (the preset's source, CosFace, AdamW) on the same faces in the same batches
for the same number of steps, from the same initial weights, each timed after one warm-up step; the loops take turns, --repeat rounds, and each keeps its best. The bare loop is what
one would write by hand: slice the uint8 faces, scale to [0, 1], forward, loss, backward, step. rtml's loop
(`train_source`) adds its one-cycle schedule, channels-last batches, per-step loss bookkeeping, the epoch's
history and checkpointing; it is timed with and without its flip-and-shift augmentation (the bare loop has none).
The bare loop runs in channels-last too (as rtml does; the plain NCHW figure is printed beside it), so the
comparison measures the loop, not the memory layout.
`--preset full` measures the GPU preset's source (112x112 faces, width 64, two blocks per stage, batch 256): on
a CPU these are its first steps, slowly. Prints figures; asserts nothing. """
import argparse, os, platform, tempfile, time
from pathlib import Path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--lfw', default=os.environ.get('RTML_LFW'), help='LFW folder (default: RTML_LFW; else synthetic faces)')
    ap.add_argument('--preset', default='quick', choices=['quick', 'full'])
    ap.add_argument('--steps', type=int, default=30, help='timed steps per measurement')
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--device', default='auto')
    args = ap.parse_args()
    import numpy as np
    import torch
    from dataclasses import replace
    from rtml.data import load_faces
    from rtml.losses import make_loss
    from rtml.pipeline import PRESETS
    from rtml.training import build_source, pick_device, train_source

    preset = PRESETS[args.preset]
    device = pick_device(args.device)
    data = load_faces(args.lfw, size=preset.image_size, progress=False)
    cfg = replace(preset.source_config(), device=str(device), epochs=1)
    n = (args.steps + 1) * cfg.batch_size  # one epoch of steps + 1 batches (the first is the warm-up)
    rows = data.view1().train
    rows = np.resize(rows, n) if len(rows) < n else rows[:n]  # repeat faces if the set is small: speed does not care
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}")
    print(f"data: {data}; preset {args.preset}: source width {cfg.width}, blocks {cfg.blocks}, {preset.image_size}x{preset.image_size} faces, "
          f"batch {cfg.batch_size}, {args.steps} timed steps, best of {args.repeat}")

    def sync():
        if device.type == 'cuda': torch.cuda.synchronize()

    def bare(channels_last=True):
        "A hand-written loop: returns images/s over the timed steps."
        torch.manual_seed(cfg.seed)
        people, y_all = np.unique(data.person[rows], return_inverse=True)
        x_all = torch.from_numpy(np.ascontiguousarray(data.images[rows])).permute(0, 3, 1, 2)
        y_all = torch.as_tensor(y_all)
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        model = build_source(cfg, preset.image_size).to(device, memory_format=fmt).train()
        loss_fn = make_loss(cfg.loss, len(people), cfg.emb_dim).to(device)
        opt = torch.optim.AdamW(list(model.parameters()) + list(loss_fn.parameters()), cfg.lr, weight_decay=cfg.weight_decay)
        order = torch.randperm(len(rows), generator=torch.Generator().manual_seed(cfg.seed)).split(cfg.batch_size)
        amp = cfg.amp and device.type == 'cuda'
        for k, idx in enumerate(order):
            if k == 1: sync(); t0 = time.perf_counter()
            x = x_all[idx].to(device).float().div_(255).contiguous(memory_format=fmt)
            with torch.autocast(device.type, torch.bfloat16, enabled=amp):
                loss = loss_fn(model(x), y_all[idx].to(device))
            opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        sync()
        return (len(order) - 1) * cfg.batch_size / (time.perf_counter() - t0)

    def rtml_loop(augment):
        "rtml's train_source on the same rows: images/s over the steps after the first."
        with tempfile.TemporaryDirectory() as out:
            # time the whole epoch, then take out the warm-up step measured on its own in a 1-step run
            c = replace(cfg, augment=augment)
            t0 = time.perf_counter(); train_source(data, rows, c, out=out, progress=False); sync(); whole = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter(); train_source(data, rows[:cfg.batch_size], c, out=out, progress=False); sync(); one = time.perf_counter() - t0
        return args.steps * cfg.batch_size / (whole - one)

    loops = {'bare PyTorch loop, channels-last': lambda: bare(True),
             'rtml train_source, no augmentation': lambda: rtml_loop(False),
             'rtml train_source, with augmentation': lambda: rtml_loop(True),
             'bare PyTorch loop, NCHW': lambda: bare(False)}
    results = {name: 0.0 for name in loops}
    for r in range(args.repeat):  # round robin, so that a slow spell of the machine does not fall on one loop only
        for name, fn in loops.items(): results[name] = max(results[name], fn())
        print(f"round {r + 1}: " + ', '.join(f"{v:.1f}" for v in results.values()), flush=True)
    for name, v in results.items(): print(f"{name:<40} {v:8.1f} images/s")
    base = results['bare PyTorch loop, channels-last']
    over = base / results['rtml train_source, no augmentation'] - 1
    print(f"rtml's loop overhead against the bare loop: {100 * over:+.1f}% time per image (target: at most +10%)")
    print(f"augmentation costs {100 * (results['rtml train_source, no augmentation'] / results['rtml train_source, with augmentation'] - 1):+.1f}%; "
          f"channels-last gains {100 * (base / results['bare PyTorch loop, NCHW'] - 1):+.1f}% over NCHW")


if __name__ == '__main__':
    main()
