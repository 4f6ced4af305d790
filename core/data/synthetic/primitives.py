"""Analytic ray intersections with spheres, yawed boxes and upright closed cylinders, and their surface normals.

Distance functions take ``origins`` (M|1, P|1, 3) and unit ``directions`` (M|1, P|1, 3) that broadcast against M
objects and return the distance (M, P) to the first hit, ``inf`` on a miss or a hit closer than `MIN_DISTANCE`;
rays are assumed to start outside the objects. Normal functions take Q surface points (Q, 3) and the parameters of
the object each lies on and return outward unit normals (Q, 3).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

MIN_DISTANCE = 1e-4
"""Hits closer than this to the ray origin are ignored (so shadow rays do not hit their own surface)."""
_TINY = 1e-12


def _nonzero(values: torch.Tensor) -> torch.Tensor:
    """``values`` with exact zeros replaced by a tiny positive number, so dividing by them never gives NaN."""
    return torch.where(values == 0, torch.full_like(values, _TINY), values)


def _hit_distance(distance: torch.Tensor, hit: torch.Tensor) -> torch.Tensor:
    """``distance`` where ``hit`` and farther than `MIN_DISTANCE`, else ``inf``."""
    return torch.where(hit & (distance > MIN_DISTANCE), distance, torch.inf)


def _yaw(vectors: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """``vectors`` (…, 3) rotated about the vertical axis by the angle of ``cos``/``sin`` (broadcast to …)."""
    x, y, z = vectors.unbind(-1)
    rotated_x, rotated_z = cos * x + sin * z, cos * z - sin * x
    return torch.stack([rotated_x, y.expand_as(rotated_x), rotated_z], dim=-1)


def sphere_distances(origins: torch.Tensor, directions: torch.Tensor, centres: torch.Tensor,
                     radii: torch.Tensor) -> torch.Tensor:
    """First hits with spheres of ``centres`` (M, 3) and ``radii`` (M,)."""
    offsets = origins - centres[:, None, :]
    half_b = (offsets * directions).sum(-1)
    discriminant = half_b ** 2 - ((offsets ** 2).sum(-1) - radii[:, None] ** 2)
    return _hit_distance(-half_b - discriminant.clamp(min=0).sqrt(), discriminant >= 0)


def box_distances(origins: torch.Tensor, directions: torch.Tensor, centres: torch.Tensor,
                  half_extents: torch.Tensor, yaws: torch.Tensor) -> torch.Tensor:
    """First hits with boxes of ``centres`` (M, 3), ``half_extents`` (M, 3) and ``yaws`` (M,) (slab method)."""
    cos, sin = yaws.cos()[:, None], yaws.sin()[:, None]
    local_origins = _yaw(origins - centres[:, None, :], cos, -sin)
    inverse = 1 / _nonzero(_yaw(directions, cos, -sin))
    extents = half_extents[:, None, :]
    low, high = (-extents - local_origins) * inverse, (extents - local_origins) * inverse
    entry = torch.minimum(low, high).amax(dim=-1)
    exit_ = torch.maximum(low, high).amin(dim=-1)
    return _hit_distance(entry, entry <= exit_)


def cylinder_distances(origins: torch.Tensor, directions: torch.Tensor, centres: torch.Tensor,
                       radii: torch.Tensor, half_heights: torch.Tensor) -> torch.Tensor:
    """First hits with vertical cylinders of ``centres`` (M, 3), ``radii`` and ``half_heights`` (M,), caps
    included."""
    ox, oy, oz = (origins - centres[:, None, :]).unbind(-1)
    dx, dy, dz = directions.unbind(-1)
    radius, half_height = radii[:, None], half_heights[:, None]
    planar = _nonzero(dx ** 2 + dz ** 2)
    half_b = ox * dx + oz * dz
    discriminant = half_b ** 2 - planar * (ox ** 2 + oz ** 2 - radius ** 2)
    side = (-half_b - discriminant.clamp(min=0).sqrt()) / planar
    nearest = _hit_distance(side, (discriminant >= 0) & ((oy + side * dy).abs() <= half_height))
    for cap_height in (half_height, -half_height):
        cap = (cap_height - oy) / _nonzero(dy)
        on_cap = (ox + cap * dx) ** 2 + (oz + cap * dz) ** 2 <= radius ** 2
        nearest = torch.minimum(nearest, _hit_distance(cap, on_cap))
    return nearest


def sphere_normals(points: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Normals at ``points`` on spheres of ``centres``."""
    return F.normalize(points - centres, dim=-1)


def box_normals(points: torch.Tensor, centres: torch.Tensor, half_extents: torch.Tensor,
                yaws: torch.Tensor) -> torch.Tensor:
    """Normals at ``points`` on boxes: the face whose plane the point lies on (largest |local| / half-extent)."""
    cos, sin = yaws.cos(), yaws.sin()
    local = _yaw(points - centres, cos, -sin)
    face = (local.abs() / half_extents).argmax(dim=-1)
    local_normals = F.one_hot(face, 3).to(points.dtype) * local.gather(-1, face[:, None]).sign()
    return _yaw(local_normals, cos, sin)


def cylinder_normals(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor,
                     half_heights: torch.Tensor) -> torch.Tensor:
    """Normals at ``points`` on cylinders: radial on the side, ±y on a cap (whichever the point is nearer to,
    relative to the cylinder's radius and half-height)."""
    offsets = points - centres
    radial = offsets * torch.tensor([1.0, 0.0, 1.0])
    on_side = radial.norm(dim=-1) / radii >= offsets[:, 1].abs() / half_heights
    cap = torch.zeros_like(offsets)
    cap[:, 1] = offsets[:, 1].sign()
    return torch.where(on_side[:, None], F.normalize(radial, dim=-1), cap)
