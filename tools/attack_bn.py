"""Batch norm inside the training attack: measure rtml's two choices on LFW validation pairs (issue: "the training attack and batch norm").

    python tools/attack_bn.py --lfw PATH [--seeds 0 1] [--out results/lfw/attack-bn.json] [--runs runs/attack-bn]

The robust source is the study's teacher (`StudyConfig().source`: the quick preset's network, 8 epochs, on one half of the
DevTrain people), robust at 2/255 with the rest of `ROBUST`, trained twice per seed: the training attack run with batch norm
in train mode (`attack_bn='train'`) and in eval mode (`'eval'`). Both are read on the study's validation pairs (300 same +
300 different pairs of DevTrain people no teacher trains on): clean 10-fold accuracy, and accuracy under PGD-50 with 3 random
starts at 2/255 judged with the clean thresholds. The test pairs are never read. Each finished (seed, choice) is written to
the JSON at once, so a cut run resumes."""
import argparse, json, time
from dataclasses import replace
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--lfw', required=True, metavar='PATH', help='your LFW folder')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    p.add_argument('--eps', type=float, default=2.0, help='training and attack budget, in 1/255 (default 2)')
    p.add_argument('--out', type=Path, default=ROOT / 'results' / 'lfw' / 'attack-bn.json')
    p.add_argument('--runs', type=Path, default=ROOT / 'runs' / 'attack-bn')
    args = p.parse_args(argv)
    import torch
    from rtml.data import load_lfw
    from rtml.training import ROBUST, train_source
    from rtml.evaluation import evaluate
    from rtml.verification import verification_report
    from rtml.study import StudyConfig, study_splits, test_faces, restart_similarities, worst_case
    from rtml.pipeline import _write_json
    data = load_lfw(args.lfw, progress=False)
    cfg, eps = StudyConfig(device='cpu'), args.eps / 255
    done = json.loads(args.out.read_text()) if args.out.is_file() else {}
    rows = done.setdefault('rows', {})
    done.update(how=__doc__.split('\n\n', 2)[2].replace('\n', ' '), eps=args.eps, threads=torch.get_num_threads())
    for seed in args.seeds:
        sp = study_splits(data, cfg, seed)
        faces, pairs = test_faces(data, sp.val)
        for bn in ('train', 'eval'):
            key = f"seed{seed}-{bn}"
            if key in rows: continue
            scfg = replace(cfg.source(eps, seed), eps=eps, attack_bn=bn)
            t0, c0 = time.time(), time.process_time()
            model, hist = train_source(data, sp.half_a, scfg, out=args.runs / key, resume=True, progress=False)
            model = model.eval()
            ev = evaluate(model, faces, pairs, retrieval=False)
            r = restart_similarities(model, faces, pairs, eps, 50, 3, seed=cfg.seed)
            attacked = verification_report(worst_case(r, pairs.same), pairs.same, pairs.fold, fars=(), thresholds=ev.clean.thresholds)
            rows[key] = {'seed': seed, 'attack_bn': bn, 'clean': ev.clean.accuracy, 'clean_std': ev.clean.accuracy_std, 'auc': ev.clean.auc,
                         'pgd50x3': attacked.accuracy, 'sims': ev.sims.tolist(), 'attacked_sims': worst_case(r, pairs.same).tolist(),
                         'thresholds': ev.clean.thresholds, 'history': hist, 'seconds': time.time() - t0, 'cpu_seconds': time.process_time() - c0}
            done['same'], done['fold'] = pairs.same.tolist(), pairs.fold.tolist()
            _write_json(args.out, done)
            print(f"{key}: clean {100 * ev.clean.accuracy:.1f}%, pgd50x3@{args.eps:g}/255 {100 * attacked.accuracy:.1f}% ({time.time() - t0:.0f} s)", flush=True)


if __name__ == '__main__':
    main()
