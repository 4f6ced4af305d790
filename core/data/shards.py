"""Sharded pre-tokenized datasets: `ShardWriter` writes safetensors shards plus ``index.json``,
`ShardedDataset` reads samples back by global index, checking every shard against the index.

A dataset directory holds ``shard-000000.safetensors``, … and ``index.json`` (`ShardIndex`). Shards and
the index are written to temp files and renamed into place; the index is written last, so a directory
without one was never finished.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as safetensors_bytes

from mm4m.core.checkpoint.errors import CheckpointError
from mm4m.core.checkpoint.safetensors_file import atomic_write_bytes, read_header
from mm4m.core.data.shard_index import INDEX_NAME, ModalityLayout, ShardEntry, ShardError, ShardIndex

SampleData = torch.Tensor | np.ndarray | Sequence[Any]
HEADER_DTYPES = {"uint8": "U8", "int16": "I16", "int32": "I32", "int64": "I64", "float16": "F16",
                 "bfloat16": "BF16", "float32": "F32"}
OFFSETS_SUFFIX = ".offsets"


def shard_name(number: int) -> str:
    return f"shard-{number:06d}.safetensors"


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 8 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(8 << 20):
            digest.update(block)
    return digest.hexdigest()


def as_layout_tensor(key: str, layout: ModalityLayout, value: SampleData) -> torch.Tensor:
    """One sample as a tensor of the layout's dtype and shape; out-of-range integers are refused."""
    dtype = getattr(torch, layout.dtype)
    tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
    if not dtype.is_floating_point:
        if tensor.is_floating_point() and tensor.numel():
            raise ShardError(f"modality '{key}': expected integer values for dtype {layout.dtype}, "
                             f"found {tensor.dtype}")
        info = torch.iinfo(dtype)
        if tensor.numel() and (int(tensor.min()) < info.min or int(tensor.max()) > info.max):
            raise ShardError(f"modality '{key}': values in [{int(tensor.min())}, {int(tensor.max())}] do not fit "
                             f"dtype {layout.dtype} [{info.min}, {info.max}]")
    expected = layout.sample_shape[1:] if layout.ragged else layout.sample_shape
    found = tuple(tensor.shape[1:]) if layout.ragged else tuple(tensor.shape)
    if found != tuple(expected) or (layout.ragged and tensor.dim() != len(layout.sample_shape)):
        raise ShardError(f"modality '{key}': expected a sample of shape {list(layout.sample_shape)}, "
                         f"found {list(tensor.shape)}")
    return tensor.to(dtype).contiguous()


class ShardWriter:
    """Append samples (``{key: data}``) and write a shard every ``samples_per_shard``; `close` writes the index.

    Used as a context manager, an exception leaves no index behind (the dataset stays unfinished).
    """

    def __init__(self, directory: str | Path, layouts: Mapping[str, ModalityLayout], *,
                 samples_per_shard: int = 1024, overwrite: bool = False):
        if samples_per_shard <= 0:
            raise ValueError(f"samples_per_shard must be positive, found {samples_per_shard}")
        self.directory = Path(directory)
        if (self.directory / INDEX_NAME).exists() and not overwrite:
            raise ShardError(f"{self.directory / INDEX_NAME}: a dataset already exists here (pass overwrite=True)")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.layouts = dict(layouts)
        self.samples_per_shard = samples_per_shard
        self._pending: list[dict[str, torch.Tensor]] = []
        self._shards: list[ShardEntry] = []

    def add(self, sample: Mapping[str, SampleData]) -> None:
        """Queue one sample; it must hold exactly the layout's modalities."""
        if set(sample) != set(self.layouts):
            raise ShardError(f"sample {self.num_written + len(self._pending)}: expected modalities "
                             f"{sorted(self.layouts)}, found {sorted(sample)}")
        self._pending.append({k: as_layout_tensor(k, self.layouts[k], sample[k]) for k in self.layouts})
        if len(self._pending) == self.samples_per_shard:
            self._flush()

    @property
    def num_written(self) -> int:
        return sum(s.num_samples for s in self._shards)

    def close(self) -> ShardIndex:
        """Write the last (partial) shard and ``index.json``; returns the index."""
        if self._pending:
            self._flush()
        if not self._shards:
            raise ShardError(f"{self.directory}: no sample was added, nothing to write")
        index = ShardIndex(modalities=self.layouts, shards=self._shards)
        index.write(self.directory)
        return index

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()

    def _flush(self) -> None:
        tensors: dict[str, torch.Tensor] = {}
        for key, layout in self.layouts.items():
            values = [sample[key] for sample in self._pending]
            if layout.ragged:
                lengths = torch.tensor([0] + [v.shape[0] for v in values], dtype=torch.int64)
                tensors[key + OFFSETS_SUFFIX] = torch.cumsum(lengths, 0)
                tensors[key] = torch.cat(values)
            else:
                tensors[key] = torch.stack(values)
        data = safetensors_bytes(tensors)
        name = shard_name(len(self._shards))
        atomic_write_bytes(self.directory / name, data)
        self._shards.append(ShardEntry(file=name, num_samples=len(self._pending),
                                       sha256=hashlib.sha256(data).hexdigest()))
        self._pending = []


class _OpenShard:
    """A verified shard, memory-mapped: tensors are read per sample slice."""

    def __init__(self, path: Path, entry: ShardEntry, layouts: Mapping[str, ModalityLayout], verify: bool):
        if not path.is_file():
            raise ShardError(f"{path}: shard file is missing (listed in {INDEX_NAME})")
        if verify and (found := file_sha256(path)) != entry.sha256:
            raise ShardError(f"{path}: corrupt shard: sha256 {found} does not match the index ({entry.sha256})")
        try:
            header = read_header(path)
            self._file = safe_open(str(path), framework="pt")
        except (CheckpointError, SafetensorError, OSError) as exc:
            raise ShardError(f"{path}: corrupt shard: {exc}") from None
        self.offsets = {}
        for key, layout in layouts.items():
            rows = self._check(path, header, key, layout, entry.num_samples)
            if layout.ragged:
                self.offsets[key] = self._file.get_tensor(key + OFFSETS_SUFFIX)
                if int(self.offsets[key][-1]) != rows or bool((self.offsets[key].diff() < 0).any()):
                    raise ShardError(f"{path}: corrupt shard: offsets of '{key}' do not cover its {rows} rows")

    @staticmethod
    def _check(path: Path, header: dict, key: str, layout: ModalityLayout, num_samples: int) -> int:
        """Check the header entries of ``key`` against its layout; returns its number of rows."""
        names = [key, key + OFFSETS_SUFFIX] if layout.ragged else [key]
        for name in names:
            if name not in header:
                raise ShardError(f"{path}: shard has no tensor '{name}' (the index lists modality '{key}')")
        entry = header[key]
        shape, dtype = tuple(entry["shape"]), entry["dtype"]
        trailing = layout.sample_shape[1:] if layout.ragged else layout.sample_shape
        rows_ok = layout.ragged or shape[:1] == (num_samples,)
        if dtype != HEADER_DTYPES[layout.dtype] or shape[1:] != tuple(trailing) or not rows_ok:
            raise ShardError(f"{path}: tensor '{key}' is {dtype} {list(shape)}, expected "
                             f"{HEADER_DTYPES[layout.dtype]} with per-sample shape {list(layout.sample_shape)}")
        if layout.ragged and tuple(header[key + OFFSETS_SUFFIX]["shape"]) != (num_samples + 1,):
            raise ShardError(f"{path}: tensor '{key}{OFFSETS_SUFFIX}' must have {num_samples + 1} entries")
        return shape[0]

    def sample(self, key: str, row: int) -> torch.Tensor:
        if key in self.offsets:
            start, end = int(self.offsets[key][row]), int(self.offsets[key][row + 1])
            return self._file.get_slice(key)[start:end]
        return self._file.get_slice(key)[row:row + 1][0]


class ShardedDataset:
    """Random access to the samples of a dataset directory: ``dataset[i]`` → ``{key: tensor}``.

    Each shard is opened on first use in this process (so each DataLoader worker opens its own) and,
    with ``verify_checksums``, its sha256 is checked first. A missing or corrupt shard is a `ShardError`
    naming the file.
    """

    def __init__(self, directory: str | Path, *, verify_checksums: bool = True):
        self.directory = Path(directory)
        self.index = ShardIndex.read(self.directory)
        self.verify_checksums = verify_checksums
        self._starts = np.cumsum([0] + [s.num_samples for s in self.index.shards]).tolist()
        self._open: dict[int, _OpenShard] = {}

    @property
    def layouts(self) -> dict[str, ModalityLayout]:
        return self.index.modalities

    def __len__(self) -> int:
        return self._starts[-1]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.sample(index)

    def sample(self, index: int, keys: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        """Sample ``index`` (0 ≤ index < len) as ``{key: tensor}`` in its stored dtype."""
        if not 0 <= index < len(self):
            raise IndexError(f"sample {index} is out of range for {self.directory} ({len(self)} samples)")
        number = bisect.bisect_right(self._starts, index) - 1
        shard = self._shard(number)
        unknown = [k for k in keys or () if k not in self.layouts]
        if unknown:
            raise KeyError(f"{self.directory}: no modality '{unknown[0]}' (it has {sorted(self.layouts)})")
        return {key: shard.sample(key, index - self._starts[number]) for key in keys or self.layouts}

    def verify(self) -> None:
        """Check every shard's presence, sha256 and header against the index."""
        for number, entry in enumerate(self.index.shards):
            self._open[number] = _OpenShard(self.directory / entry.file, entry, self.layouts, verify=True)

    def _shard(self, number: int) -> _OpenShard:
        if number not in self._open:
            entry = self.index.shards[number]
            self._open[number] = _OpenShard(self.directory / entry.file, entry, self.layouts, self.verify_checksums)
        return self._open[number]

    def __getstate__(self) -> dict[str, Any]:
        """Pickled into DataLoader workers without open file handles (each worker opens its own)."""
        return {**self.__dict__, "_open": {}}
