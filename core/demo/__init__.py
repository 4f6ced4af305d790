"""The embedded end-to-end demo (`mm4m demo`): synthetic scenes, fitted tokenizers, a tiny 4M trained on them,
and generations scored against ground truth and trivial baselines. Nothing is downloaded."""

from mm4m.core.demo.config import DemoConfig
from mm4m.core.demo.evaluation import Score
from mm4m.core.demo.pipeline import run_demo
from mm4m.core.demo.report import DemoReport

__all__ = ["DemoConfig", "DemoReport", "Score", "run_demo"]
