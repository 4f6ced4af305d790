"""One generation run: a checkpoint loaded, the plan resolved and checked against it, its steps run with
progress events, and every target decoded."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from pydantic import BaseModel

from mm4m.core.generation.pipeline.entries import condition_entry, target_entry
from mm4m.core.generation.pipeline.errors import PipelineError
from mm4m.core.generation.pipeline.outputs import DEFAULT_DECODE_STEPS, GenerationResult, decode_target
from mm4m.core.generation.pipeline.tokenizers import TokenizerSet, TokenizerSource
from mm4m.core.generation.plan import GenerationPlan
from mm4m.core.generation.sample_dict import SampleDict
from mm4m.core.generation.sampler import GenerationSampler
from mm4m.core.generation.schedule import ScheduleStep


class ProgressEvent(BaseModel):
    """Work done so far: ``done`` of ``total`` units (schedule steps, then decodes) and what runs next."""

    done: int
    total: int
    description: str


ProgressCallback = Callable[[ProgressEvent], None]


def load_model(path: str | os.PathLike[str], *, device: str | torch.device = "cpu") -> torch.nn.Module:
    """A `FourM` checkpoint (file, hub-layout directory or hub id) in eval mode on ``device``."""
    from mm4m.core.model.fourm import FourM

    return FourM.from_pretrained(path).eval().to(device)


def resolve_plan(inputs: Sequence[str], targets: Sequence[str], plan: GenerationPlan | None,
                 seed: int | None = None) -> GenerationPlan:
    """``plan`` checked against the inputs and targets (``seed`` overrides its seed), or the default plan:
    every input that is not a target conditions, each target decoded per its spec with the plan defaults."""
    if plan is None:
        if not targets:
            raise PipelineError("expected at least one target, found none")
        conditions = [key for key in inputs if key not in targets]
        return GenerationPlan.parse({"conditions": conditions, "targets": list(targets), "seed": seed},
                                    source="default plan")
    planned = [target.domain for target in plan.targets]
    if targets and list(targets) != planned:
        raise PipelineError(f"targets {list(targets)} differ from the plan's targets {planned}")
    missing = [key for key in plan.conditions if key not in inputs]
    if missing:
        raise PipelineError(f"plan conditions {missing} have no input (inputs: {list(inputs)})")
    return plan if seed is None else plan.model_copy(update={"seed": seed})


def generate(model: torch.nn.Module, inputs: Mapping[str, Any], targets: Sequence[str] = (),
             plan: GenerationPlan | None = None, *, tokenizers: Mapping[str, TokenizerSource] | TokenizerSet | None
             = None, seed: int | None = None, decode_steps: int = DEFAULT_DECODE_STEPS,
             on_progress: ProgressCallback | None = None) -> GenerationResult:
    """Generate ``targets`` (or the plan's) for one sample of ``inputs`` (key → raw data or `TokenIds`).

    Text inputs and targets need the text tokenizer, raw data of token modalities its tokenizer; grid targets
    are decoded when ``tokenizers`` has theirs. ``seed`` overrides the plan's; ``on_progress`` sees each step.
    """
    tokenizers = tokenizers if isinstance(tokenizers, TokenizerSet) else TokenizerSet(tokenizers)
    plan = resolve_plan(list(inputs), targets, plan, seed)
    target_keys = [target.domain for target in plan.targets]
    _check_model(model, list(inputs), target_keys)
    specs = model.specs
    schedule = plan.schedule(lambda key: specs[key])
    decoders = {key: tokenizers.get(specs[key], purpose=f"target '{key}'")
                if not specs[key].kind.is_image or tokenizers.has_source(specs[key]) else None
                for key in target_keys}
    sample: SampleDict = {key: condition_entry(specs[key], data, tokenizers)
                          for key, data in inputs.items() if key not in target_keys}
    sample.update({key: target_entry(specs[key], inputs.get(key), tokenizers) for key in target_keys})
    device = model.mask_token.device
    sample = {key: {name: tensor.to(device) for name, tensor in entry.items()} for key, entry in sample.items()}

    total = len(schedule) + len(target_keys)
    report = on_progress or (lambda event: None)
    state = sample
    steps = GenerationSampler(model).generate_iter(sample, schedule, top_k=plan.top_k, top_p=plan.top_p,
                                                   seed=plan.seed)
    for index, step in enumerate(schedule):
        report(ProgressEvent(done=index, total=total, description=f"step {index + 1}/{len(schedule)}: "
                                                                  f"{_describe(step)}"))
        state = next(steps)
    outputs = {}
    for index, key in enumerate(target_keys):
        report(ProgressEvent(done=len(schedule) + index, total=total, description=f"decoding {key}"))
        outputs[key] = decode_target(specs[key], state[key], decoders[key], decode_steps=decode_steps,
                                     seed=plan.seed)
    report(ProgressEvent(done=total, total=total, description="done"))
    return GenerationResult(outputs=outputs, schedule=schedule, seed=plan.seed)


def _check_model(model: torch.nn.Module, inputs: Sequence[str], targets: Sequence[str]) -> None:
    """Every key is a known modality, each input an encoder and each target a decoder modality of the model."""
    from mm4m.registry.default import get_registry

    registry = get_registry()
    for key in [*inputs, *targets]:
        registry.spec(key)  # an unknown key raises UnknownModalityError with suggestions
    for role, keys, layers in (("input", inputs, model.encoder_embeddings),
                               ("target", targets, model.decoder_embeddings)):
        for key in keys:
            if key not in layers:
                raise PipelineError(f"{role} '{key}': the checkpoint has no {role} '{key}' (its {role}s: "
                                    f"{', '.join(sorted(layers))})")


def _describe(step: ScheduleStep) -> str:
    tokens = f" ({step.num_tokens} tokens)" if step.num_tokens is not None else ""
    return f"{step.scheme.value} {step.target_domain}{tokens}"
