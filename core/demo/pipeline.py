"""`run_demo`: scenes → tokenizers → shards → 4M training → generation → scores, figure and report."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from mm4m.core.demo.config import DemoConfig
from mm4m.core.demo.dataset import write_training_shards
from mm4m.core.demo.evaluation import score_predictions
from mm4m.core.demo.figure import demo_figure
from mm4m.core.demo.generation import DemoGenerator
from mm4m.core.demo.modalities import DemoKeys, demo_modalities
from mm4m.core.demo.output_dir import staged_output
from mm4m.core.demo.report import REPORT_FILE, REPORT_FORMAT, CaptionExample, DemoReport
from mm4m.core.demo.scenes import render_demo_scenes
from mm4m.core.demo.stages import StageLog
from mm4m.core.demo.tokenizers import DemoTokenizers, fit_image_tokenizers, fit_text_tokenizer
from mm4m.core.demo.training import train_model
from mm4m.core.render import save_png

STAGES = ("render scenes", "fit tokenizers", "write training shards", "train the 4M", "generate on held-out scenes",
          "score and draw")
FIGURE_FILE = "demo.png"
CAPTION_EXAMPLES = 8


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run with ``count`` torch CPU threads, restoring the previous setting afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def run_demo(config: DemoConfig, out: str | os.PathLike[str], *, console: Console | None = None) -> DemoReport:
    """Run the whole demo into ``out`` (replacing an earlier demo run there) and return its report."""
    log = StageLog(STAGES, console or Console(stderr=True))
    with ExitStack() as stack:
        stack.enter_context(torch_threads(config.threads))
        staging = stack.enter_context(staged_output(Path(out), REPORT_FILE, REPORT_FORMAT))
        return _run(config, staging, log, stack)


def _run(config: DemoConfig, staging: Path, log: StageLog, stack: ExitStack) -> DemoReport:
    """The stages, in order; ``stack`` keeps the demo modalities registered until the run ends."""
    keys = DemoKeys.for_size(config.image_size)
    with log.stage("render scenes"):
        scenes = render_demo_scenes(config)
        log.note(f"{config.train_scenes} training and {config.heldout_scenes} held-out scenes of "
                 f"{config.image_size}×{config.image_size} px")
    with log.stage("fit tokenizers"):
        text = fit_text_tokenizer(scenes, config, staging / "tokenizers")
        specs = stack.enter_context(demo_modalities(config.image_size, config.patch_size, config.codebook_size,
                                                    text.vocab_size))
        log.note(f"{keys.caption}: WordPiece of {text.vocab_size} ids; registered {', '.join(specs)}")
        image, reports = fit_image_tokenizers(
            scenes, config, keys, staging / "tokenizers", show_progress=log.interactive,
            on_fitted=lambda key, r: log.note(f"{key}: {r.primary_metric} {r.untrained[r.primary_metric]:.3f} → "
                                              f"{r.trained[r.primary_metric]:.3f}"))
        tokenizers = DemoTokenizers(image, text, reports)
    with log.stage("write training shards"):
        write_training_shards(scenes.train, keys, specs, tokenizers, staging / "dataset")
    with log.stage("train the 4M"):
        model, result = train_model(config, keys, staging / "dataset", staging / "model",
                                    show_progress=log.interactive)
        head, tail = result.losses[:10], result.losses[-10:]
        training_loss = (sum(head) / len(head), sum(tail) / len(tail))
        log.note(f"{result.end_step} steps; mean loss {training_loss[0]:.3f} over the first 10 → "
                 f"{training_loss[1]:.3f} over the last 10")
    with log.stage("generate on held-out scenes"):
        with Progress(TextColumn("      scenes"), BarColumn(), MofNCompleteColumn(), console=log.console,
                      disable=not log.interactive, transient=True) as progress:
            task = progress.add_task("generate", total=config.heldout_scenes)
            predictions = DemoGenerator(model, config, keys, specs, tokenizers).predict(
                scenes.heldout, on_batch=lambda done: progress.update(task, completed=done))
    with log.stage("score and draw"):
        scores = score_predictions(predictions, scenes.train, scenes.heldout, keys, tokenizers)
        figure = demo_figure(scenes.heldout, predictions, specs, keys, config.shown_examples)
        save_png(figure, staging / FIGURE_FILE)
    report = DemoReport(
        config=config, torch_threads=torch.get_num_threads(), cpu_count=os.cpu_count() or 1,
        load_average=tuple(round(x, 2) for x in os.getloadavg()), stage_seconds=log.seconds,
        tokenizers={key: r.trained for key, r in reports.items()}, training_loss=training_loss, scores=scores,
        captions=[CaptionExample(truth=r.caption, generated=c)
                  for r, c in zip(scenes.heldout.records[:CAPTION_EXAMPLES], predictions.captions, strict=False)],
        files=sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file()) + [REPORT_FILE])
    report.save(staging)
    return report
