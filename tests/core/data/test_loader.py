"""Sample order and the masked micro-batch loader: deterministic across processes, workers and resumes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mm4m.core.data.loader import MaskedMicroBatches, micro_batch_loader
from mm4m.core.data.sample_order import BatchPlan, stream_samples
from mm4m.core.data.shard_index import ModalityLayout
from mm4m.core.data.shards import ShardedDataset, ShardWriter
from mm4m.core.masking.unified import UnifiedMasking
from mm4m.registry import get_registry

KEYS = ("caption", "tok_semseg@224")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> ShardedDataset:
    rng = np.random.default_rng(0)
    directory = tmp_path_factory.mktemp("loader") / "ds"
    layouts = {"tok_semseg@224": ModalityLayout(dtype="int16", sample_shape=(196,)),
               "caption": ModalityLayout(dtype="int32", sample_shape=(-1,), ragged=True)}
    with ShardWriter(directory, layouts, samples_per_shard=5) as writer:
        for i in range(13):
            writer.add({"tok_semseg@224": np.full(196, i), "caption": rng.integers(300, 30000, 4 + i % 5)})
    return ShardedDataset(directory)


@pytest.fixture(scope="module")
def policy() -> UnifiedMasking:
    specs = [get_registry().spec(k) for k in KEYS]
    return UnifiedMasking.for_specs(specs, num_input_tokens=16, num_target_tokens=16)


def test_every_epoch_visits_every_sample_once_in_a_new_order():
    first, second = stream_samples(10, 3, 0, 10), stream_samples(10, 3, 10, 10)
    assert sorted(first) == sorted(second) == list(range(10))
    assert list(first) != list(second)
    assert list(stream_samples(10, 3, 7, 6)) == [*first[7:], *second[:3]]


def test_one_process_accumulating_sees_what_two_processes_see():
    single = BatchPlan(micro_batch_size=3, world_size=1, accumulation_steps=2, seed=5)
    double = BatchPlan(micro_batch_size=3, world_size=2, accumulation_steps=1, seed=5)
    for step in range(4):
        for j in range(2):
            np.testing.assert_array_equal(single.samples(13, step, 0, j), double.samples(13, step, j, 0))
            assert single.masking_seed(step, 0, j) == double.masking_seed(step, j, 0)
    seeds = {single.masking_seed(s, 0, a) for s in range(4) for a in range(2)}
    assert len(seeds) == 8


def test_micro_batches_hold_the_planned_samples_masked(dataset, policy):
    plan = BatchPlan(micro_batch_size=4, world_size=2, accumulation_steps=1, seed=1)
    batches = MaskedMicroBatches(dataset, policy, plan, rank=1, end_step=3)
    item = batches[2]
    assert (item.step, item.accumulation_index) == (2, 0)
    expected = plan.samples(len(dataset), 2, 1, 0)
    grid = item.mod_dict["tok_semseg@224"]["tensor"]
    assert grid.dtype == torch.int64 and grid[:, 0].tolist() == expected.tolist()
    input_tokens = sum((~entry["input_mask"]).sum(1) for entry in item.mod_dict.values())
    assert 0 < int(input_tokens.min()) and int(input_tokens.max()) <= 16  # short captions can leave budget unused


def test_stream_is_the_same_for_any_worker_count_and_resume_point(dataset, policy):
    plan = BatchPlan(micro_batch_size=3, accumulation_steps=2, seed=2)
    full = list(micro_batch_loader(MaskedMicroBatches(dataset, policy, plan, end_step=4), num_workers=0))
    workers = list(micro_batch_loader(MaskedMicroBatches(dataset, policy, plan, end_step=4), num_workers=2))
    resumed = list(micro_batch_loader(MaskedMicroBatches(dataset, policy, plan, start_step=2, end_step=4)))
    assert len(full) == len(workers) == 8 and len(resumed) == 4
    for a, b in zip(full, workers, strict=True):
        assert_same(a, b)
    for a, b in zip(full[4:], resumed, strict=True):
        assert_same(a, b)
    assert not torch.equal(full[0].mod_dict["caption"]["input_mask"], full[2].mod_dict["caption"]["input_mask"])


def test_unknown_modality_and_rank_are_refused(dataset, policy):
    plan = BatchPlan(micro_batch_size=2)
    with pytest.raises(KeyError, match="no modality 'tok_rgb@224'"):
        MaskedMicroBatches(dataset, policy, plan, end_step=1, keys=["tok_rgb@224"])
    with pytest.raises(ValueError, match=r"rank must be in \[0, 1\), found 1"):
        MaskedMicroBatches(dataset, policy, plan, rank=1, end_step=1)


def assert_same(a, b) -> None:
    assert (a.step, a.accumulation_index) == (b.step, b.accumulation_index)
    assert a.mod_dict.keys() == b.mod_dict.keys()
    for key, entry in a.mod_dict.items():
        for name, tensor in entry.items():
            assert torch.equal(tensor, b.mod_dict[key][name]), (key, name)
