"""Samples/s of the batched unified masking policy vs a per-sample implementation of the same algorithm.

The baseline masks one sample at a time the way the reference's data pipeline does (torch Dirichlet
draws, torch.rand + argsort per grid modality, Python loops for span masking), then stacks the samples.
Both run on the same 4M-21 mixture and the same batch in this process; the ratio is what matters.

    OMP_NUM_THREADS=1 python benchmarks/masking.py [--batch 256] [--repeats 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

import torch

from mm4m.core.masking import KeepMode, MaskingConfig, UnifiedMasking, builtin_config_path, load_alphas_mixture
from mm4m.core.spec import ModalityKind, ModalitySpec
from mm4m.core.special_tokens import EOS_ID, PAD_ID, sentinel_id

MIX_4M21 = "mix_mod21_all2allmix_rgb2all_capT5bias"
INPUT_ONLY = ("rgb@224", "t5_caption")
ALPHA_FLOOR = 1e-9


def config_4m21() -> MaskingConfig:
    """19 input domains, 17 output domains, 256 input and 256 target tokens (the 4M-21 training setup)."""
    mixture = load_alphas_mixture(builtin_config_path(MIX_4M21))
    keys = tuple(sorted(mixture.modalities))
    return MaskingConfig(in_domains=keys, out_domains=tuple(k for k in keys if k not in INPUT_ONLY),
                         mixture=mixture, num_input_tokens=256, num_target_tokens=256)


def make_batch(specs: dict[str, ModalitySpec], size: int, seed: int = 0) -> dict[str, Any]:
    """Random 4M-21-shaped data: token grids, pixels, T5 rows, text of random length, metadata chunks."""
    rng, gen = random.Random(seed), torch.Generator().manual_seed(seed)
    batch: dict[str, Any] = {}
    for key, spec in specs.items():
        if spec.kind is ModalityKind.IMAGE_PIXELS:
            batch[key] = torch.rand(size, spec.channels, spec.input_size, spec.input_size, generator=gen)
        elif spec.kind.is_image:
            batch[key] = torch.randint(0, spec.vocab_size, (size, spec.max_tokens), generator=gen)
        elif spec.kind is ModalityKind.SEQUENCE_EMBEDDING:
            batch[key] = [torch.randn(rng.randint(8, spec.max_tokens), spec.channels, generator=gen)
                          for _ in range(size)]
        elif key == "metadata":
            batch[key] = [[[rng.randint(1204, 2203), rng.randint(204, 1203)] for _ in range(rng.randint(5, 19))]
                          for _ in range(size)]
        else:
            batch[key] = [[rng.randint(4284, 29999) for _ in range(rng.randint(4, spec.max_tokens))]
                          for _ in range(size)]
    return batch


class PerSampleMasking:
    """The unified algorithm written sample by sample, as the reference applies it in its data pipeline."""

    def __init__(self, config: MaskingConfig, specs: dict[str, ModalitySpec]):
        self.config, self.specs, self.keys = config, specs, config.modalities
        rows = [config.mixture.modalities[k] for k in self.keys]
        self.input_alphas = torch.tensor([r.input_alphas for r in rows]).T.clamp(min=ALPHA_FLOOR)
        self.target_alphas = torch.tensor([r.target_alphas for r in rows]).T.clamp(min=ALPHA_FLOOR)
        weights = config.mixture.sampling_weights
        self.weights = None if weights is None else torch.tensor(weights, dtype=torch.float64)

    def __call__(self, batch: dict[str, Any]) -> dict[str, dict[str, torch.Tensor]]:
        size = len(next(iter(batch.values())))
        samples = [self.mask_sample({k: batch[k][b] for k in self.keys}) for b in range(size)]
        return {k: {f: torch.stack([s[k][f] for s in samples]) for f in samples[0][k]} for k in self.keys}

    def budgets(self, alphas: torch.Tensor, total: int, caps: list[int]) -> list[int]:
        dirichlet = torch.distributions.Dirichlet(alphas)
        budget = (dirichlet.sample() * total).floor().long()
        for _ in range(total - int(budget.sum())):
            budget[dirichlet.sample().argmax()] += 1
        return [min(int(b), c) for b, c in zip(budget, caps, strict=True)]

    def mask_sample(self, sample: dict[str, Any]) -> dict[str, dict[str, torch.Tensor]]:
        k = int(torch.multinomial(self.weights, 1)) if self.weights is not None else random.randint(
            0, self.input_alphas.shape[0] - 1)
        lo, hi = self.config.input_tokens_range
        b_in = self.budgets(self.input_alphas[k], random.randint(lo, hi), [s.max_tokens for s in self.specs.values()])
        b_in = [b if key in self.config.in_domains else 0 for key, b in zip(self.keys, b_in, strict=True)]
        caps = [s.max_tokens - b if s.kind.is_image else s.max_tokens
                for s, b in zip(self.specs.values(), b_in, strict=True)]
        lo, hi = self.config.target_tokens_range
        b_tgt = self.budgets(self.target_alphas[k], random.randint(lo, hi), caps)
        b_tgt = [b if key in self.config.out_domains else 0 for key, b in zip(self.keys, b_tgt, strict=True)]
        out = {}
        for m, key in enumerate(self.keys):
            spec, keep_mode = self.specs[key], self.config.mixture.modalities[key].keep_mode(k)
            if spec.kind.is_image:
                out[key] = self.mask_grid(sample[key], spec, b_in[m], b_tgt[m])
            else:
                out[key] = self.mask_sequence(sample[key], spec, b_in[m], b_tgt[m], keep_mode)
        return out

    @staticmethod
    def mask_grid(tensor: torch.Tensor, spec: ModalitySpec, b_in: int, b_tgt: int) -> dict[str, torch.Tensor]:
        perm = torch.rand(spec.max_tokens).argsort()
        input_mask = torch.ones(spec.max_tokens, dtype=torch.bool)
        target_mask = torch.ones(spec.max_tokens, dtype=torch.bool)
        input_mask[perm[:b_in]] = False
        target_mask[perm[b_in:b_in + b_tgt]] = False
        codes = torch.zeros(spec.max_tokens, dtype=torch.int32)
        if b_tgt:
            codes[torch.nonzero(~target_mask)[0, 0]] = b_tgt
        return {"tensor": tensor, "input_mask": input_mask, "target_mask": target_mask,
                "decoder_attention_mask": codes}

    def mask_sequence(self, data: Any, spec: ModalitySpec, b_in: int, b_tgt: int,
                      keep_mode: KeepMode) -> dict[str, torch.Tensor]:
        embedding = spec.kind is ModalityKind.SEQUENCE_EMBEDDING
        units = [[i] for i in range(min(len(data), spec.max_tokens))] if embedding else self.units(data, spec)
        keep = {KeepMode.RANDOM: random.random(), KeepMode.ALL: 1.0,
                KeepMode.BINARY: float(random.randint(0, 1))}[keep_mode] if b_in else 0.0
        while True:  # sentinels are stored negated until the layout step
            inputs, targets, runs, in_run = [], [], 0, False
            for unit, kept in zip(units, (torch.rand(len(units)) < keep).tolist(), strict=True):
                if kept:
                    in_run = False
                    inputs.extend(unit)
                    continue
                if not in_run:
                    runs, in_run = runs + 1, True
                    inputs.append(-sentinel_id(runs))
                    targets.append(-sentinel_id(runs))
                targets.extend(unit)
            if b_in == 0 or len(inputs) <= b_in:
                break
            keep *= 0.9
        targets.append(-sentinel_id(runs + 1))
        if b_in == 0:
            inputs = []
        targets = self.truncate(targets, b_tgt)
        return self.embedding_layout(data, inputs, spec) if embedding else self.text_layout(inputs, targets, b_in, spec)

    @staticmethod
    def units(data: Any, spec: ModalitySpec) -> list[list[int]]:
        chunked = bool(data) and isinstance(data[0], list)
        chunks = [*data, [EOS_ID]] if chunked else [[t] for t in [*data, EOS_ID][: spec.max_tokens]]
        kept, total = [], 0
        for chunk in chunks:
            total += len(chunk)
            if total > spec.max_tokens:
                break
            kept.append(chunk)
        return kept

    @staticmethod
    def truncate(targets: list[int], b_tgt: int) -> list[int]:
        if len(targets) <= b_tgt:
            return targets
        sentinels = [i for i, t in enumerate(targets) if t < 0]
        start = sentinels[random.randrange(max(1, len(sentinels) - 1))]
        if len(targets) - start >= b_tgt:
            return targets[start:start + b_tgt]
        return targets[next(i for i in sentinels if len(targets) - i <= b_tgt):]

    @staticmethod
    def text_layout(inputs: list[int], targets: list[int], b_in: int, spec: ModalitySpec) -> dict[str, torch.Tensor]:
        length = 2 * (spec.max_tokens + 1)
        tensor = torch.full((length,), PAD_ID, dtype=torch.long)
        input_mask = torch.ones(length, dtype=torch.bool)
        target_mask = torch.ones(length, dtype=torch.bool)
        codes = torch.zeros(length, dtype=torch.int32)
        tensor[: len(inputs)] = torch.tensor([abs(t) for t in inputs], dtype=torch.long)
        input_mask[: len(inputs)] = False
        tensor[b_in: b_in + len(targets)] = torch.tensor([abs(t) for t in targets], dtype=torch.long)
        target_mask[b_in: b_in + len(targets)] = False
        codes[b_in: b_in + len(targets)] = 1
        return {"tensor": tensor, "input_mask": input_mask, "target_mask": target_mask, "decoder_attention_mask": codes}

    @staticmethod
    def embedding_layout(rows: torch.Tensor, inputs: list[int], spec: ModalitySpec) -> dict[str, torch.Tensor]:
        tensor = torch.zeros(spec.max_tokens, spec.channels)
        for i, row in enumerate(inputs):
            if row >= 0:
                tensor[i] = rows[row]
        input_mask = torch.ones(spec.max_tokens, dtype=torch.bool)
        input_mask[: len(inputs)] = False
        return {"tensor": tensor, "input_mask": input_mask,
                "target_mask": torch.ones(spec.max_tokens, dtype=torch.bool),
                "decoder_attention_mask": torch.zeros(spec.max_tokens, dtype=torch.int32)}


def samples_per_second(fn, batch: dict[str, Any], size: int, repeats: int) -> float:
    """Median throughput of ``fn(batch)`` over ``repeats`` runs, after one untimed warm-up run."""
    fn(batch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(batch)
        times.append(time.perf_counter() - start)
    return size / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    random.seed(0)
    batched = UnifiedMasking(config_4m21())
    per_sample = PerSampleMasking(batched.config, batched.specs)
    batch = make_batch(batched.specs, args.batch)
    fast = samples_per_second(batched, batch, args.batch, args.repeats)
    slow = samples_per_second(per_sample, batch, args.batch, args.repeats)
    print(f"4M-21 mix ({len(batched.modalities)} modalities, 256+256 tokens), batch {args.batch}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    print(f"per-sample (reference way): {slow:10.1f} samples/s")
    print(f"batched policy:             {fast:10.1f} samples/s")
    print(f"speed-up:                   {fast / slow:10.1f}x")


if __name__ == "__main__":
    main()
