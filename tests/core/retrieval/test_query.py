"""End-to-end retrieval: a global embedding predicted by the tiny 4M checkpoint, decoded and searched."""

from __future__ import annotations

import gzip

import pytest
import torch

from mm4m.core.generation.pipeline import MissingTokenizerError, PipelineError
from mm4m.core.retrieval import RetrievalError, RetrievalIndex, predict_embedding, retrieval_plan, retrieve
from mm4m.core.spec import DecodingStrategy


def test_retrieval_plan_is_the_reference_schedule():
    plan = retrieval_plan("tok_dinov2_global", ["rgb@224"], seed=3)
    (step,) = plan.schedule()
    assert step.as_reference_dict() == {"target_domain": "tok_dinov2_global", "scheme": "roar", "num_tokens": 16,
                                         "temperature": 0.1, "cfg_scale": 1.0, "cfg_cond_domains": ["rgb@224"]}
    assert plan.top_p == 0.8 and plan.seed == 3 and plan.targets[0].scheme is DecodingStrategy.ROAR


def test_query_returns_the_item_with_the_same_embedding_first(fourm, global_tokenizer):
    image = torch.rand(3, 224, 224, generator=torch.Generator().manual_seed(0))
    tokenizers = {"tok_dinov2_global": global_tokenizer}
    embedding = predict_embedding(fourm, {"rgb@224": image}, tokenizers, seed=1)
    assert embedding.shape == (24,)
    others = torch.randn(6, 24, generator=torch.Generator().manual_seed(1))
    index = RetrievalIndex(vectors=torch.cat([others[:3], embedding[None], others[3:]]),
                           ids=["o1", "o2", "o3", "same", "o4", "o5", "o6"], modality="tok_dinov2_global")
    hits = retrieve(fourm, {"rgb@224": image}, index, tokenizers, k=5, seed=1)
    assert len(hits) == 5 and hits[0].id == "same" and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_query_without_the_embedding_tokenizer(fourm):
    with pytest.raises(MissingTokenizerError, match="retrieval target 'tok_dinov2_global' needs its tokenizer"):
        predict_embedding(fourm, {"rgb@224": torch.rand(3, 224, 224)}, {})


def test_index_of_another_width_is_refused(fourm, global_tokenizer):
    index = RetrievalIndex(vectors=torch.ones(2, 768), ids=["a", "b"], modality="tok_dinov2_global")
    with pytest.raises(RetrievalError, match="index of 'tok_dinov2_global' holds 768-d embeddings, but the tokenizer "
                                             "decodes 24-d ones"):
        retrieve(fourm, {"rgb@224": torch.rand(3, 224, 224)}, index, {"tok_dinov2_global": global_tokenizer})


def test_shared_global_tiny_fixture_does_not_fit_the_tiny_checkpoint(fourm, shared_dir, tmp_path):
    path = tmp_path / "global_tiny.safetensors"
    path.write_bytes(gzip.decompress((shared_dir / "fixtures/tokenizers/global_tiny.safetensors.gz").read_bytes()))
    with pytest.raises(PipelineError, match="expected a vocabulary of 8192"):
        predict_embedding(fourm, {"rgb@224": torch.rand(3, 224, 224)}, {"tok_dinov2_global": str(path)})
