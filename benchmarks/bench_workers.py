"""Training steps per second on a small CPU: one process with every core's thread against one process per core.

    python benchmarks/bench_workers.py [--steps 10] [--batch 128] [--width 32] [--size 64]

The study (`rtml study --workers N`) can run its units in N processes at once. Whether that pays depends on how
well one process's threads share the work of a small network's steps: this script trains the quick preset's
source (ResNet, CosFace-sized batches of random faces, AdamW) for `--steps` timed steps after three warm-up
steps, first in one process with all threads, then in one process per core with one thread each, all at once.
It prints steps per second of each way and their ratio. Prints figures; asserts nothing."""
import argparse, os, subprocess, sys, time

STEPS = r'''
import sys, time, torch
threads, steps, batch, width, size = map(int, sys.argv[1:6])
torch.set_num_threads(threads); torch.manual_seed(0)
from rtml.training import SourceConfig, build_source
m = build_source(SourceConfig(width=width), size).to(memory_format=torch.channels_last)
opt = torch.optim.AdamW(m.parameters(), 1e-3)
x = torch.rand(batch, 3, size, size).contiguous(memory_format=torch.channels_last)
for i in range(steps + 3):
    if i == 3: t = time.time()
    loss = m(x).pow(2).sum(); opt.zero_grad(); loss.backward(); opt.step()
print((time.time() - t) / steps)
'''


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--steps', type=int, default=10, help='timed steps per process')
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--width', type=int, default=32, help="channels of the source's first stage")
    ap.add_argument('--size', type=int, default=64, help='face side in pixels')
    ap.add_argument('--cores', type=int, default=os.cpu_count(), help='cores to use (default: all)')
    args = ap.parse_args()
    cmd = lambda threads: [sys.executable, '-c', STEPS, str(threads), str(args.steps), str(args.batch), str(args.width), str(args.size)]
    one = float(subprocess.run(cmd(args.cores), capture_output=True, text=True, check=True).stdout)
    procs = [subprocess.Popen(cmd(1), stdout=subprocess.PIPE, text=True) for _ in range(args.cores)]
    each = [float(p.communicate()[0]) for p in procs]
    rate_one, rate_many = 1 / one, sum(1 / s for s in each)
    print(f"{args.cores} cores, batch {args.batch}, width {args.width}, {args.size}x{args.size} faces, {args.steps} timed steps")
    print(f"one process, {args.cores} threads: {one:.3f} s/step, {rate_one:.2f} steps/s")
    print(f"{args.cores} processes, 1 thread each, at once: {', '.join(f'{s:.3f}' for s in each)} s/step, {rate_many:.2f} steps/s in all")
    print(f"processes / threads: {rate_many / rate_one:.2f}x the steps per second")


if __name__ == '__main__':
    main()
