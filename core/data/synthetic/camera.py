"""Primary rays of the pinhole camera, one per pixel centre, and the world → camera rotation."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from mm4m.core.data.synthetic.config import CameraConfig


@dataclass(frozen=True)
class CameraRays:
    """Rays through the pixel centres (row-major), shared by every scene of a batch.

    Camera space follows the OpenGL convention: x right, y up, z towards the viewer (the camera looks along −z).
    """

    origin: torch.Tensor  # (3,) world position of the camera
    directions: torch.Tensor  # (P, 3) unit world directions, P = size², row-major from the top-left pixel
    world_to_camera: torch.Tensor  # (3, 3) rows: camera right, up and backward axes in world coordinates

    @property
    def forward_cosines(self) -> torch.Tensor:
        """(P,) cosine between each ray and the optical axis: z-depth = ray distance × cosine."""
        return -(self.directions @ self.world_to_camera[2])


def camera_rays(camera: CameraConfig, size: int) -> CameraRays:
    """Rays of a ``size`` × ``size`` image from ``camera``, which looks at the world origin."""
    origin = torch.tensor([0.0, camera.height, -camera.distance])
    forward = -origin / origin.norm()
    right = torch.linalg.cross(forward, torch.tensor([0.0, 1.0, 0.0]))
    right = right / right.norm()
    up = torch.linalg.cross(right, forward)
    half_width = math.tan(math.radians(camera.field_of_view_degrees) / 2)
    centres = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    v, u = torch.meshgrid(-centres * half_width, centres * half_width, indexing="ij")
    directions = forward + u.reshape(-1, 1) * right + v.reshape(-1, 1) * up
    directions = directions / directions.norm(dim=-1, keepdim=True)
    return CameraRays(origin=origin, directions=directions, world_to_camera=torch.stack([right, up, -forward]))
