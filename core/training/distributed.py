"""Process groups and model wrapping with torch's engines: DDP by default, FSDP2 (`fully_shard`) as an option.

Launched with ``torchrun`` the usual environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT) selects
the group: NCCL on GPUs, gloo on CPU. Without it training runs in one process and nothing is wrapped.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import FSDPModule, fully_shard
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class ProcessContext:
    """This process's rank, the world size and the device it trains on."""

    rank: int
    world_size: int
    device: torch.device
    owns_group: bool = False  # True when `init_processes` created the process group (and must destroy it)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def init_processes() -> ProcessContext:
    """Join the torchrun process group if the environment describes one, else a single CPU/GPU process."""
    cuda = torch.cuda.is_available()
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1 and not dist.is_initialized():
        return ProcessContext(0, 1, torch.device("cuda" if cuda else "cpu"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    owns = not dist.is_initialized()
    if owns:
        if cuda:
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if cuda else "gloo", device_id=device if cuda else None)
    return ProcessContext(dist.get_rank(), dist.get_world_size(), device, owns_group=owns)


def close_processes(context: ProcessContext) -> None:
    if context.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def barrier(context: ProcessContext) -> None:
    if context.distributed:
        dist.barrier()


def wrap_model(model: nn.Module, strategy: Literal["ddp", "fsdp"], context: ProcessContext) -> nn.Module:
    """DDP, or FSDP2 with every encoder/decoder block sharded on its own plus the rest at the root."""
    if not context.distributed:
        return model
    if strategy == "ddp":
        # grid decoders carry a token_emb they never use, so some parameters get no gradient
        return DistributedDataParallel(model, device_ids=[context.device.index] if context.device.type == "cuda"
                                       else None, find_unused_parameters=True)
    mesh = init_device_mesh(context.device.type, (context.world_size,))
    for block in (*model.encoder, *model.decoder):
        fully_shard(block, mesh=mesh)
    fully_shard(model, mesh=mesh)
    return model


def unwrapped(model: nn.Module) -> nn.Module:
    """The FourM inside a DDP wrapper (FSDP2 modules are the model itself)."""
    return model.module if isinstance(model, DistributedDataParallel) else model


@contextlib.contextmanager
def gradient_sync(model: nn.Module, enabled: bool) -> Iterator[None]:
    """Skip the gradient all-reduce of a micro-batch (all but the last of an accumulation) when disabled."""
    if isinstance(model, DistributedDataParallel) and not enabled:
        with model.no_sync():
            yield
    elif isinstance(model, FSDPModule):
        model.set_requires_gradient_sync(enabled)
        yield
    else:
        yield


def mean_over_processes(values: torch.Tensor, context: ProcessContext) -> torch.Tensor:
    """The element-wise mean of ``values`` over all processes (for logging)."""
    if context.distributed:
        values = values.clone()
        dist.all_reduce(values)
        values /= context.world_size
    return values
