"""Training of neural tokenizers (4m-tokenizers.md §7): ViT VQ-VAEs and MLP + Memcodes for a registered modality.

``train_tokenizer(config, data, out_dir)`` trains resumably and writes a released-format checkpoint, a JSON report
of untrained vs trained reconstruction metrics and a PNG of examples.
"""

from mm4m.core.tokenizers.training.architecture import SIZES, ArchitectureError, ArchitecturePreset, tokenizer_config
from mm4m.core.tokenizers.training.config import ModelSize, TrainingConfig
from mm4m.core.tokenizers.training.data import SampleError, SampleLayout, layout_for, load_samples, read_sample
from mm4m.core.tokenizers.training.report import TrainingReport
from mm4m.core.tokenizers.training.state import TrainingStateError
from mm4m.core.tokenizers.training.trainer import (
    EXAMPLES_FILE,
    REPORT_FILE,
    TOKENIZER_FILE,
    TrainingError,
    train_tokenizer,
)

__all__ = [
    "EXAMPLES_FILE", "REPORT_FILE", "SIZES", "TOKENIZER_FILE", "ArchitectureError", "ArchitecturePreset",
    "ModelSize", "SampleError", "SampleLayout", "TrainingConfig", "TrainingError", "TrainingReport",
    "TrainingStateError", "layout_for", "load_samples", "read_sample", "tokenizer_config", "train_tokenizer",
]
