__version__ = "0.1.0"
"rtml: robust metric transfer. The few names most users need; every module (rtml.data, rtml.training, ...) has the rest."
from .data import load_faces, load_lfw, synthetic_faces
from .models import MODELS, create_model, load_model
from .losses import LOSSES
from .attacks import ATTACKS, make_attack, pgd
from .evaluation import EvalConfig, evaluate, results_table
from .training import ROBUST, TERMS, SourceConfig, fit, train_source
from .transfer import TargetConfig, distil, train_target
from .pipeline import PRESETS, run_pipeline
from . import daml, sft, cam_softmax, viz, teacher  # their losses, terms, comparison variants, figures and dlib's network join the registries

__all__ = ['load_faces', 'load_lfw', 'synthetic_faces', 'MODELS', 'create_model', 'load_model', 'LOSSES', 'ATTACKS', 'make_attack',
           'pgd', 'EvalConfig', 'evaluate', 'results_table', 'ROBUST', 'TERMS', 'SourceConfig', 'fit', 'train_source',
           'TargetConfig', 'distil', 'train_target', 'PRESETS', 'run_pipeline']
