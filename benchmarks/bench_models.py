"""Inference cost of the small target against the source: parameters, multiply-adds, CPU images/s.

    python benchmarks/bench_models.py [--run runs/quick-view1] [--seconds 2]

Measures the networks the pipeline builds (trained ones from --run's checkpoints when they exist, else freshly
initialised ones of the quick preset: the speed does not depend on the weights), each on its own input (source:
64x64 RGB; target: its 32x32 grey view), at batch 1 and batch 256, on one thread and on all of torch's threads,
as eager modules and in the deployment forms: TorchScript (`rtml.models.inference_model`, batch norms folded)
and ONNX Runtime (`rtml.models.onnx_model`, when `pip install "rtml[deploy]"` has installed it).
Prints figures; asserts nothing. Each figure is the best of three timed runs."""
import argparse, os, platform, time
from pathlib import Path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--run', default='runs/quick-view1', help='a pipeline output folder to take the trained networks from')
    ap.add_argument('--seconds', type=float, default=2.0, help='time per measurement')
    args = ap.parse_args()
    import torch
    from rtml.models import best_runtime, count_macs, count_params, throughput
    from rtml.pipeline import PRESETS
    from rtml.training import build_source, load_source
    from rtml.transfer import build_target, load_target
    preset = PRESETS['quick']
    run = Path(args.run)
    src_ckpt, tgt_ckpt = run / 'source_standard/view1/checkpoint.pt', run / 'target_imitates_robust/view1/checkpoint.pt'
    if src_ckpt.is_file() and tgt_ckpt.is_file():
        source, target, where = load_source(src_ckpt), load_target(tgt_ckpt), f"trained, from {run}"
    else:
        source, target, where = build_source(preset.source_config()), build_target(preset.target_config()), 'freshly initialised'
    nets = {'source': (source, (3, 64, 64)), 'target': (target.net, target.view.shape())}
    threads = torch.get_num_threads()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"torch {torch.__version__}; networks {where}")
    for name, (net, shape) in nets.items():
        print(f"{name}: input {'x'.join(map(str, shape))}, {count_params(net) / 1e6:.3f} M parameters, {count_macs(net, shape) / 1e6:.2f} M multiply-adds")
    runtimes = {'eager': 'eager', 'torchscript': 'TorchScript, frozen', 'onnxruntime': 'ONNX Runtime'}
    if best_runtime() != 'onnxruntime':
        del runtimes['onnxruntime']; print('ONNX Runtime is not installed (pip install "rtml[deploy]"): its rows are left out')
    figures = {}
    for rt in runtimes:
        for th in sorted({1, threads}):
            for batch in (1, 256):
                for name, (net, shape) in nets.items():
                    figures[rt, th, batch, name] = max(throughput(net, shape, batch, args.seconds, th, rt) for _ in range(3))
    print(f"\n| form | threads | batch | source (img/s) | target (img/s) | target / source |\n|---|---|---|---|---|---|")
    for rt, label in runtimes.items():
        for th in sorted({1, threads}):
            for batch in (1, 256):
                s, t = figures[rt, th, batch, 'source'], figures[rt, th, batch, 'target']
                print(f"| {label} | {th} | {batch} | {s:.0f} | {t:.0f} | {t / s:.2f}x |")


if __name__ == '__main__':
    main()
