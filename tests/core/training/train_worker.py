"""Runs `mm4m.core.training.train` on a YAML config: ``python train_worker.py CONFIG [STOP_AT_STEP] [--resume]``.

The distributed tests launch it with torchrun; the kill test runs it as a plain subprocess.
"""

import sys

from mm4m.core.training.config import TrainConfig
from mm4m.core.training.trainer import train

if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--resume"]
    train(TrainConfig.from_yaml(args[0]), resume="--resume" in sys.argv,
          stop_at_step=int(args[1]) if len(args) > 1 else None)
