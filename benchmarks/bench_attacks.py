"""PGD cost: rtml's `pgd` against the same attack written directly in PyTorch, and AdverTorch's LinfPGDAttack.

    python benchmarks/bench_attacks.py [--run runs/quick-view1] [--batch 64] [--steps 10] [--repeat 5]

All three run L-infinity PGD with a random start (eps 2/255, step 2.5 eps / steps) on the same source network in
eval mode, the same faces and the same objective: the batch's CosFace metric loss, rtml's `metric_loss`. The
direct version is the loop one would write by hand (random start, `torch.autograd.grad` on the images, signed
step, projection, clamp). AdverTorch is optional (`pip install --no-deps advertorch==0.2.3`); its 0.2.3 release
imports `zero_gradients`, which PyTorch has since removed, so this script supplies that one function before
importing it (only AdverTorch's FAB attack uses it). Prints figures; asserts nothing. Each figure is the median of
--repeat runs after a warm-up."""
import argparse, os, platform, statistics, time
from pathlib import Path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--run', default='runs/quick-view1', help='pipeline output folder with a trained source (else a fresh one)')
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--repeat', type=int, default=5)
    args = ap.parse_args()
    import torch
    from rtml.attacks import metric_loss, pgd
    from rtml.losses import make_loss
    from rtml.pipeline import PRESETS
    from rtml.training import build_source, load_source

    ckpt = Path(args.run) / 'source_standard/view1/checkpoint.pt'
    model = load_source(ckpt) if ckpt.is_file() else build_source(PRESETS['quick'].source_config())
    model.eval()
    torch.manual_seed(0)
    x = torch.rand(args.batch, 3, 64, 64)
    y = torch.arange(args.batch) % (args.batch // 4)
    loss_fn = make_loss('cosface', args.batch // 4, 128)
    eps, steps = 2 / 255, args.steps
    size = 2.5 * eps / steps
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads; source {'trained, from ' + str(ckpt) if ckpt.is_file() else 'freshly initialised'}; "
          f"batch {args.batch} of 64x64 faces, {steps} steps, median of {args.repeat}")

    def rtml_pgd():
        return pgd(model, x, metric_loss(loss_fn, y), eps, steps, size)

    def direct_pgd():
        for p in model.parameters(): p.requires_grad_(False)  # as a careful hand-written attack would
        xa = (x + (2 * torch.rand_like(x) - 1) * eps).clamp(0, 1)
        for _ in range(steps):
            xa.requires_grad_(True)
            g, = torch.autograd.grad(loss_fn(model(xa), y), xa)
            xa = (x + (xa.detach() + size * g.sign() - x).clamp(-eps, eps)).clamp(0, 1)
        for p in model.parameters(): p.requires_grad_(True)
        return xa.detach()

    attacks = {'direct PyTorch': direct_pgd, 'rtml pgd': rtml_pgd}
    try:
        import sys, torch.autograd.gradcheck
        gc = sys.modules['torch.autograd.gradcheck']  # the module (torch.autograd.gradcheck the attribute is a function)
        if not hasattr(gc, 'zero_gradients'):  # removed from PyTorch; AdverTorch 0.2.3 imports it (FAB attack only)
            def zero_gradients(t):
                if isinstance(t, torch.Tensor) and t.grad is not None: t.grad.zero_()
            gc.zero_gradients = zero_gradients
        from advertorch.attacks import LinfPGDAttack
        adv = LinfPGDAttack(model, loss_fn=lambda e, t: loss_fn(e, t), eps=eps, nb_iter=steps, eps_iter=size, rand_init=True,
                            clip_min=0.0, clip_max=1.0, targeted=False)
        attacks['AdverTorch LinfPGDAttack'] = lambda: adv.perturb(x, y)
    except ImportError as e:
        print(f"AdverTorch: not measured ({e}); pip install --no-deps advertorch==0.2.3")

    times = {}
    for name, fn in attacks.items():
        fn()  # warm-up
        runs = []
        for _ in range(args.repeat):
            t = time.perf_counter(); xa = fn(); runs.append(time.perf_counter() - t)
        assert (xa - x).abs().max() <= eps + 1e-6  # each stays within its budget
        times[name] = statistics.median(runs)
    base = times['direct PyTorch']
    for name, t in times.items():
        print(f"{name:<26} {1000 * t:8.1f} ms per attack ({1000 * t / steps:.1f} ms per step)  {t / base:.3f}x direct PyTorch")
    print(f"rtml pgd / direct PyTorch: {times['rtml pgd'] / base:.3f}x (target: at most 1.1x)")


if __name__ == '__main__':
    main()
