"""The Python API behind ``mm4m generate``: one sample's inputs tokenized by their modalities, a plan run, and
the targets decoded (text detokenized, grids decoded when their tokenizer is given) and saved as PNG / JSON / text.

```python
model = load_model("fourm.safetensors")
result = generate(model, {"rgb@224": pixels, "caption": "a red car [S_1]"}, ["tok_depth@224", "caption"],
                  tokenizers={"caption": "text_tokenizer_4m_wordpiece_30k.json"}, seed=0)
result.outputs["caption"].text
result.save("out/")
```
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field

from mm4m.core.generation.plan import GenerationPlan
from mm4m.core.generation.sample_dict import Entry, SampleDict, empty_target, full_input, prompted_target
from mm4m.core.generation.sampler import GenerationSampler
from mm4m.core.generation.schedule import ScheduleStep
from mm4m.core.interfaces import Tokenizer
from mm4m.core.spec import ModalityKind, ModalitySpec, TokenizerFamily
from mm4m.core.special_tokens import EOS_ID, is_sentinel

IDS_FORMAT = "mm4m-token-ids"
"""``format`` of token-id files, shared with ``mm4m tokenize`` (its ids files are valid inputs here)."""
TEXT_FILE_PREFIX = "@"
"""A text input value starting with this names a UTF-8 file holding the text (``caption=@prompt.txt``)."""
DEFAULT_DECODE_STEPS = 50
"""Diffusion steps of DiVAE decoding by default (as `DiVAETokenizer.detokenize`)."""

TokenizerSource = str | os.PathLike[str] | Tokenizer
ProgressCallback = Callable[["ProgressEvent"], None]


class PipelineError(ValueError):
    """An input, target, plan or tokenizer that does not fit the model or its modality; the message names it."""


class MissingTokenizerError(PipelineError):
    """A modality whose tokenizer is needed but was not given (``key`` names it)."""

    def __init__(self, message: str, *, key: str):
        super().__init__(message)
        self.key = key


class TokenIds(BaseModel):
    """Ids of a token modality given as such (e.g. an ids file of ``mm4m tokenize``) instead of raw data."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    ids: torch.Tensor
    source: str = "<memory>"


class ProgressEvent(BaseModel):
    """Work done so far: ``done`` of ``total`` units (schedule steps, then decodes) and what runs next."""

    done: int
    total: int
    description: str


class GeneratedOutput(BaseModel):
    """One generated target: its ids and what they decode to."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    spec: ModalitySpec
    tokens: torch.Tensor = Field(description="(N,) ids: the grid, or the merged sequence without padding.")
    text: str | None = Field(None, description="Detokenized text of a sequence target.")
    record: Any = Field(None, description="Structured record parsed from the text (det, metadata, ...).")
    parse_error: str | None = Field(None, description="Why the text of a structured target is not a record.")
    decoded: torch.Tensor | None = Field(None, description="Grid decoded by its tokenizer, raw domain, batch 1.")


class GenerationResult(BaseModel):
    """The outputs of one run, the schedule that made them and its seed."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    outputs: dict[str, GeneratedOutput]
    schedule: list[ScheduleStep]
    seed: int | None

    def files(self) -> dict[str, bytes]:
        """File name → content of every output: ids JSON, decoded PNG + .npy, text, record JSON + PNG."""
        from mm4m.core.render import render
        from mm4m.core.render.render import png_bytes

        files: dict[str, bytes] = {}
        for key, output in self.outputs.items():
            spec = output.spec
            if spec.kind.is_image:
                document = {"format": IDS_FORMAT, "modality": key, "shape": [1, output.tokens.numel()],
                            "ids": [output.tokens.tolist()]}
                files[f"{key}.tokens.json"] = _json_bytes(document)
                if output.decoded is not None:
                    files[f"{key}.npy"] = _npy_bytes(output.decoded)
                    files[f"{key}.png"] = png_bytes(render(output.decoded, spec))
                continue
            files[f"{key}.txt"] = (output.text + "\n").encode()
            if output.record is not None:
                files[f"{key}.json"] = (output.record.model_dump_json(indent=2) + "\n").encode()
                files[f"{key}.png"] = png_bytes(render(output.record, spec))
        summary = {"seed": self.seed, "schedule": [step.as_reference_dict() for step in self.schedule],
                   "parse_errors": {k: o.parse_error for k, o in self.outputs.items() if o.parse_error},
                   "files": sorted(files)}
        files["generation.json"] = _json_bytes(summary)
        return files

    def save(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Write `files` into ``directory``, each atomically, after all of them were made in memory."""
        from mm4m.core.checkpoint.safetensors_file import atomic_write_bytes

        contents = self.files()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for name, data in contents.items():
            atomic_write_bytes(directory / name, data)
            written.append(directory / name)
        return written


def _json_bytes(document: Any) -> bytes:
    return (json.dumps(document, indent=2) + "\n").encode()


def _npy_bytes(tensor: torch.Tensor) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, tensor.detach().cpu().numpy(), allow_pickle=False)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------- loading


def load_model(path: str | os.PathLike[str], *, device: str | torch.device = "cpu") -> torch.nn.Module:
    """A `FourM` checkpoint (file, hub-layout directory or hub id) in eval mode on ``device``."""
    from mm4m.core.model.fourm import FourM

    return FourM.from_pretrained(path).eval().to(device)


def load_input(spec: ModalitySpec, value: str) -> Any:
    """The raw data (or `TokenIds`) a command-line value names: text itself (``@FILE`` reads it; structured
    modalities take a JSON record), an ids file (.json / .safetensors) or a PNG / .npy sample."""
    from mm4m.core.tokenizers.training.data import SampleError, SampleLayout, layout_for, read_sample

    where = f"input '{spec.key}'"
    if spec.kind is ModalityKind.TEXT_SEQUENCE:
        text = _read_text(value[1:], where) if value.startswith(TEXT_FILE_PREFIX) else value
        if not _is_structured(spec):
            return text
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise PipelineError(f"{where}: expected a JSON record of the modality, found invalid JSON ({exc})") \
                from None
    path = Path(value)
    if not path.is_file():
        raise PipelineError(f"{where}: file {path} not found")
    suffix = path.suffix.lower()
    tokens = spec.kind in (ModalityKind.IMAGE_TOKENS, ModalityKind.GLOBAL_TOKENS)
    if tokens and suffix in (".json", ".safetensors"):
        return TokenIds(ids=_read_ids_file(path, spec.key), source=str(path))
    if spec.kind is ModalityKind.SEQUENCE_EMBEDDING:
        if suffix != ".npy":
            raise PipelineError(f"{where}: expected an (L, {spec.channels}) .npy array, found {path.name}")
        return torch.from_numpy(np.load(path, allow_pickle=False))
    layout = SampleLayout.IMAGE if spec.kind is ModalityKind.IMAGE_PIXELS else layout_for(spec)
    kinds = "a PNG or .npy sample" + (", or an ids file (.json / .safetensors)" if tokens else "")
    if suffix not in (".png", ".npy"):
        raise PipelineError(f"{where}: expected {kinds}, found {path.name}")
    try:
        return read_sample(path, layout)
    except SampleError as exc:
        raise PipelineError(f"{where}: {exc}") from None


def _is_structured(spec: ModalitySpec) -> bool:
    """True for text modalities whose data is a record serialised to text (det, metadata, ...)."""
    from mm4m.registry.default import get_registry

    return getattr(get_registry().get(spec.key), "serializer", None) is not None


def _read_text(path: str, where: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineError(f"{where}: cannot read text file {path}: {exc}") from None


def _read_ids_file(path: Path, modality: str) -> torch.Tensor:
    """Ids from a ``mm4m-token-ids`` JSON file or a safetensors file with an ``ids`` tensor."""
    if path.suffix.lower() == ".safetensors":
        from mm4m.core.checkpoint.safetensors_file import header_metadata, load_tensors

        found = header_metadata(path).get("modality")
        tensors = load_tensors(path)
        if "ids" not in tensors:
            raise PipelineError(f"{path}: expected an 'ids' tensor, found {sorted(tensors)}")
        ids = tensors["ids"]
    else:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PipelineError(f"{path}: cannot read ids JSON: {exc}") from None
        if not isinstance(document, dict) or document.get("format") != IDS_FORMAT or "ids" not in document:
            raise PipelineError(f"{path}: expected a JSON object with format {IDS_FORMAT!r} and 'ids', found "
                                f"{str(document)[:60]!r}")
        found, ids = document.get("modality"), torch.tensor(document["ids"], dtype=torch.long)
    if found is not None and found != modality:
        raise PipelineError(f"{path}: ids of modality {found!r}, expected {modality!r}")
    return ids


class TokenizerSet:
    """The tokenizers of one run, from given objects or sources per modality key, each loaded once.

    Text modalities fall back to the source of the key whose vocabulary they share, then to
    ``$MM4M_TEXT_TOKENIZER``; neural tokenizers are moved to ``device``.
    """

    def __init__(self, sources: Mapping[str, TokenizerSource] | None = None, *,
                 device: str | torch.device = "cpu"):
        self.sources = dict(sources or {})
        self.device = torch.device(device)
        self._loaded: dict[str, Tokenizer] = {}

    def has_source(self, spec: ModalitySpec) -> bool:
        """True when a tokenizer (or its checkpoint) was given for ``spec``."""
        return self._source(spec) is not None

    def get(self, spec: ModalitySpec, *, purpose: str) -> Tokenizer:
        """The tokenizer of ``spec``; a missing one is an error naming ``purpose`` and what to pass."""
        if spec.key not in self._loaded:
            from mm4m.core.tokenizers.resolve import TokenizerUnavailableError
            from mm4m.registry.default import get_registry

            source = self._source(spec)
            try:
                tokenizer = source if isinstance(source, Tokenizer) else get_registry().get(spec.key).tokenizer(source)
            except TokenizerUnavailableError as exc:
                raise MissingTokenizerError(f"{purpose} needs a tokenizer: {exc}", key=spec.key) from None
            self._loaded[spec.key] = _checked(spec, _to_device(tokenizer, self.device))
        return self._loaded[spec.key]

    def _source(self, spec: ModalitySpec) -> TokenizerSource | None:
        source = self.sources.get(spec.key)
        if source is None and spec.shared_vocab is not None:
            source = self.sources.get(spec.shared_vocab)
        return source


def _to_device(tokenizer: Tokenizer, device: torch.device) -> Tokenizer:
    from mm4m.core.tokenizers.neural import NeuralTokenizer

    if isinstance(tokenizer, NeuralTokenizer):
        tokenizer.model.to(device)
    return tokenizer


def _tokenizer_device(tokenizer: Tokenizer) -> torch.device:
    from mm4m.core.tokenizers.neural import NeuralTokenizer

    return next(tokenizer.model.parameters()).device if isinstance(tokenizer, NeuralTokenizer) \
        else torch.device("cpu")


def _checked(spec: ModalitySpec, tokenizer: Tokenizer) -> Tokenizer:
    """The tokenizer must produce the modality's vocabulary (and, for Memcodes, one code per token)."""
    from mm4m.core.tokenizers.neural import NeuralTokenizer

    if spec.vocab_size is not None and tokenizer.vocab_size != spec.vocab_size:
        raise PipelineError(f"tokenizer of '{spec.key}': expected a vocabulary of {spec.vocab_size} (the "
                            f"modality's), found {tokenizer.vocab_size}")
    if isinstance(tokenizer, NeuralTokenizer) and tokenizer.family is TokenizerFamily.MEMCODES_MLP:
        heads = tokenizer.model.config.num_codebooks
        if heads != spec.max_tokens:
            raise PipelineError(f"tokenizer of '{spec.key}': expected {spec.max_tokens} codebooks (one per "
                                f"token), found {heads}")
    return tokenizer


# ---------------------------------------------------------------------------------------------- inputs


def prepare_pixels(spec: ModalitySpec, data: Any) -> torch.Tensor:
    """(1, C, S, S): centre-cropped to a square, resized to the spec's input size and normalised."""
    from mm4m.core.tokenizers.neural.normalization import InputNormalizer

    x = torch.as_tensor(data).float()
    x = x[0] if x.dim() == 4 and x.shape[0] == 1 else x
    if x.dim() == 3 and x.shape[0] == 1 and spec.channels == 3:
        x = x.expand(3, -1, -1)
    if x.dim() != 3 or x.shape[0] != spec.channels:
        raise PipelineError(f"input '{spec.key}': expected pixels ({spec.channels}, H, W), found shape "
                            f"{tuple(x.shape)}")
    side = min(x.shape[1:])
    top, left = (x.shape[1] - side) // 2, (x.shape[2] - side) // 2
    square = x[None, :, top:top + side, left:left + side]
    resized = F.interpolate(square, size=(spec.input_size, spec.input_size), mode="bilinear", antialias=True,
                            align_corners=False)
    normalizer = InputNormalizer(spec.normalization, owner=f"input '{spec.key}'")
    if normalizer.value_range is not None:
        resized = resized.clamp(*normalizer.value_range)
    return normalizer.normalize(resized)


def _grid_ids(spec: ModalitySpec, data: Any, tokenizers: TokenizerSet) -> torch.Tensor:
    """(1, N) ids of a token modality: given as `TokenIds`, or raw data tokenized by its tokenizer."""
    if isinstance(data, TokenIds):
        ids, origin = data.ids, data.source
    else:
        tokenizer = tokenizers.get(spec, purpose=f"input '{spec.key}' (raw data; or give an ids file)")
        ids, origin = tokenizer.tokenize(torch.as_tensor(data)[None].to(_tokenizer_device(tokenizer))), "tokenizer"
    if ids.dtype.is_floating_point or ids.dtype == torch.bool or ids.numel() != spec.max_tokens:
        raise PipelineError(f"input '{spec.key}' ({origin}): expected {spec.max_tokens} integer ids, found "
                            f"{ids.dtype} of shape {tuple(ids.shape)}")
    if ids.min() < 0 or ids.max() >= spec.vocab_size:
        raise PipelineError(f"input '{spec.key}' ({origin}): expected ids in [0, {spec.vocab_size}), found "
                            f"[{int(ids.min())}, {int(ids.max())}]")
    return ids.reshape(1, -1).long()


def _text_ids(spec: ModalitySpec, data: Any, tokenizers: TokenizerSet) -> list[int]:
    tokenizer = tokenizers.get(spec, purpose=f"input '{spec.key}'")
    return [int(t) for t in tokenizer.tokenize(data)]


def _sequence_features(spec: ModalitySpec, data: Any) -> Entry:
    """An (L, C) array padded to the spec's length, its L rows visible."""
    x = torch.as_tensor(data).float()
    if x.dim() != 2 or x.shape[1] != spec.channels or not 1 <= x.shape[0] <= spec.max_tokens:
        raise PipelineError(f"input '{spec.key}': expected (L, {spec.channels}) with 1 <= L <= {spec.max_tokens}, "
                            f"found shape {tuple(x.shape)}")
    padded = torch.zeros(1, spec.max_tokens, spec.channels)
    padded[0, :x.shape[0]] = x
    return full_input(spec, padded, valid=torch.arange(spec.max_tokens)[None] < x.shape[0])


def _condition(spec: ModalitySpec, data: Any, tokenizers: TokenizerSet) -> Entry:
    """A fully visible input of any kind."""
    if spec.kind is ModalityKind.IMAGE_PIXELS:
        return full_input(spec, prepare_pixels(spec, data))
    if spec.kind is ModalityKind.SEQUENCE_EMBEDDING:
        return _sequence_features(spec, data)
    if spec.kind.is_image:
        return full_input(spec, _grid_ids(spec, data, tokenizers))
    ids = _text_ids(spec, data, tokenizers) + [EOS_ID]
    if len(ids) > spec.max_tokens:
        raise PipelineError(f"input '{spec.key}': expected at most {spec.max_tokens} tokens with [EOS], found "
                            f"{len(ids)}")
    return full_input(spec, torch.tensor([ids]))


def _target(spec: ModalitySpec, prompt: Any, tokenizers: TokenizerSet) -> Entry:
    """An empty target, or for a text target that is also an input, its prompt with the text to fill."""
    if prompt is None:
        return empty_target(spec, 1)
    if spec.kind is not ModalityKind.TEXT_SEQUENCE:
        raise PipelineError(f"input '{spec.key}' is also a target: only text targets take a prompt, found kind "
                            f"{spec.kind.value}")
    ids = _text_ids(spec, prompt, tokenizers)
    if not any(is_sentinel(t) for t in ids):
        raise PipelineError(f"input '{spec.key}' is also a target: its prompt must mark where to write with a "
                            f"sentinel such as [S_1], found none in {prompt!r}")
    room = spec.max_tokens - len(ids)
    if room < 2:
        raise PipelineError(f"input '{spec.key}': the prompt must leave >= 2 of {spec.max_tokens} tokens to "
                            f"generate, found {len(ids)} prompt tokens")
    return prompted_target(torch.tensor([ids]), room)


# ---------------------------------------------------------------------------------------------- the run


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


def _decode(spec: ModalitySpec, entry: Entry, tokenizer: Tokenizer | None, *, decode_steps: int,
            seed: int | None) -> GeneratedOutput:
    """Ids of a finished target and their decode: text (and record) for sequences, data for grids."""
    from mm4m.core.tokenizers.neural import DiVAETokenizer
    from mm4m.core.tokenizers.serializers import StructuredTextTokenizer
    from mm4m.core.tokenizers.serializers.base import SerializationError

    if spec.kind.is_image:
        tokens = entry["tensor"][0].reshape(-1).long().cpu()
        if tokenizer is None:
            return GeneratedOutput(spec=spec, tokens=tokens)
        ids = tokens[None].to(_tokenizer_device(tokenizer))
        if isinstance(tokenizer, DiVAETokenizer):
            generator = None if seed is None else torch.Generator(ids.device).manual_seed(seed)
            decoded = tokenizer.detokenize(ids, steps=decode_steps, generator=generator)
        else:
            decoded = tokenizer.detokenize(ids)
        return GeneratedOutput(spec=spec, tokens=tokens, decoded=decoded.cpu())
    tokens = entry["tensor"][0][~entry["input_mask"][0]].long().cpu()
    if not isinstance(tokenizer, StructuredTextTokenizer):
        return GeneratedOutput(spec=spec, tokens=tokens, text=tokenizer.detokenize(tokens))
    text = tokenizer.text.detokenize(tokens)
    try:
        return GeneratedOutput(spec=spec, tokens=tokens, text=text, record=tokenizer.serializer.parse(text))
    except SerializationError as exc:
        return GeneratedOutput(spec=spec, tokens=tokens, text=text, parse_error=str(exc))


def _describe(step: ScheduleStep) -> str:
    tokens = f" ({step.num_tokens} tokens)" if step.num_tokens is not None else ""
    return f"{step.scheme.value} {step.target_domain}{tokens}"


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
    sample: SampleDict = {key: _condition(specs[key], data, tokenizers)
                          for key, data in inputs.items() if key not in target_keys}
    sample.update({key: _target(specs[key], inputs.get(key), tokenizers) for key in target_keys})
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
        outputs[key] = _decode(specs[key], state[key], decoders[key], decode_steps=decode_steps, seed=plan.seed)
    report(ProgressEvent(done=total, total=total, description="done"))
    return GenerationResult(outputs=outputs, schedule=schedule, seed=plan.seed)
