"""Any-to-any retrieval (spec §6): predict a global embedding modality from any inputs, decode it with its
tokenizer and search an index of embeddings of the same space."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from mm4m.core.generation.pipeline import (
    MissingTokenizerError,
    ProgressCallback,
    TokenizerSet,
    TokenizerSource,
    generate,
)
from mm4m.core.generation.plan import GenerationPlan
from mm4m.core.retrieval.index import Hit, RetrievalError, RetrievalIndex
from mm4m.core.retrieval.search import SearchBackend

DEFAULT_MODALITY = "tok_dinov2_global"
RETRIEVAL_TEMPERATURE = 0.1
RETRIEVAL_TOP_P = 0.8


def retrieval_plan(modality: str, conditions: list[str], *, seed: int | None = None) -> GenerationPlan:
    """The reference's retrieval schedule: ROAR in one step at temperature 0.1, top-p 0.8, no guidance."""
    return GenerationPlan(conditions=conditions, top_p=RETRIEVAL_TOP_P, seed=seed,
                          targets=[{"domain": modality, "scheme": "roar", "steps": 1,
                                    "temperature": RETRIEVAL_TEMPERATURE}])


def predict_embedding(model: torch.nn.Module, inputs: Mapping[str, Any], tokenizers: Mapping[str, TokenizerSource]
                      | TokenizerSet, *, modality: str = DEFAULT_MODALITY, seed: int | None = None,
                      on_progress: ProgressCallback | None = None) -> torch.Tensor:
    """The (D,) embedding of ``modality`` predicted from ``inputs`` and decoded by its tokenizer."""
    tokenizers = tokenizers if isinstance(tokenizers, TokenizerSet) else TokenizerSet(tokenizers)
    spec = model.specs.get(modality)
    if spec is not None and not tokenizers.has_source(spec):
        raise MissingTokenizerError(f"retrieval target '{modality}' needs its tokenizer (the Memcodes MLP "
                                    f"checkpoint) to decode the embedding, found none", key=modality)
    plan = retrieval_plan(modality, [key for key in inputs if key != modality], seed=seed)
    result = generate(model, inputs, plan=plan, tokenizers=tokenizers, on_progress=on_progress)
    return result.outputs[modality].decoded.reshape(-1)


def retrieve(model: torch.nn.Module, inputs: Mapping[str, Any], index: RetrievalIndex,
             tokenizers: Mapping[str, TokenizerSource] | TokenizerSet, *, k: int = 5, seed: int | None = None,
             backend: SearchBackend = SearchBackend.AUTO, on_progress: ProgressCallback | None = None) -> list[Hit]:
    """The ``k`` items of ``index`` nearest to the embedding predicted from ``inputs`` (in the index's modality)."""
    modality = index.modality or DEFAULT_MODALITY
    embedding = predict_embedding(model, inputs, tokenizers, modality=modality, seed=seed, on_progress=on_progress)
    if embedding.numel() != index.dim:
        raise RetrievalError(f"index of '{modality}' holds {index.dim}-d embeddings, but the tokenizer decodes "
                             f"{embedding.numel()}-d ones")
    return index.search(embedding, k, backend=backend)
