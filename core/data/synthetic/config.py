"""Typed, validated settings of the synthetic-scene renderer: layout, camera and Canny thresholds."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator

HORIZON_MARGIN_DEGREES = 5.0
"""The top edge of the view must stay this far below the horizon, so every pixel sees the ground or an object."""


class _Frozen(BaseModel):
    """Immutable settings that reject unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class CameraConfig(_Frozen):
    """A pinhole camera above the ground, looking down at the centre of the object layout."""

    height: float = Field(default=3.0, gt=0, description="Camera height above the ground plane (scene units).")
    distance: float = Field(default=5.0, gt=0, description="Horizontal distance to the layout centre.")
    field_of_view_degrees: float = Field(default=45.0, gt=0, lt=120, description="Vertical = horizontal FOV.")

    @property
    def pitch_degrees(self) -> float:
        """Downward tilt of the optical axis below the horizontal."""
        return math.degrees(math.atan2(self.height, self.distance))

    @model_validator(mode="after")
    def _view_below_horizon(self) -> CameraConfig:
        top_edge = self.pitch_degrees - self.field_of_view_degrees / 2
        if top_edge < HORIZON_MARGIN_DEGREES:
            raise ValueError(
                f"camera must see no sky: pitch − field_of_view/2 must be ≥ {HORIZON_MARGIN_DEGREES}°, found "
                f"{top_edge:.1f}° (pitch {self.pitch_degrees:.1f}° from height {self.height} and distance "
                f"{self.distance}, field_of_view_degrees {self.field_of_view_degrees})")
        return self


class CannyConfig(_Frozen):
    """Canny edge detection on the grey-level rgb (values in [0, 1]; gradients of the Sobel operator / 8)."""

    sigma: float = Field(default=1.0, gt=0, description="Standard deviation (pixels) of the Gaussian pre-blur.")
    low_threshold: float = Field(default=0.02, gt=0, description="Weak-edge gradient magnitude.")
    high_threshold: float = Field(default=0.06, gt=0, description="Strong-edge gradient magnitude.")

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> CannyConfig:
        if self.low_threshold > self.high_threshold:
            raise ValueError(f"Canny low_threshold must be ≤ high_threshold, found {self.low_threshold} > "
                             f"{self.high_threshold}")
        return self


class SceneConfig(_Frozen):
    """What a synthetic scene may contain and how it is imaged.

    Objects stand in distinct cells of a ``layout_grid`` × ``layout_grid`` grid centred on the origin, sized so
    that even the largest objects never intersect.
    """

    image_size: int = Field(default=64, ge=8, le=1024, description="Height = width of every image, in pixels.")
    min_objects: int = Field(default=1, ge=0, description="Fewest objects placed in a scene.")
    max_objects: int = Field(default=5, ge=1, description="Most objects placed in a scene.")
    min_size: float = Field(default=0.3, gt=0, description="Smallest object half-extent (sphere radius).")
    max_size: float = Field(default=0.6, gt=0, description="Largest object half-extent.")
    layout_grid: int = Field(default=3, ge=1, le=8, description="Cells per side of the placement grid.")
    camera: CameraConfig = CameraConfig()
    canny: CannyConfig = CannyConfig()

    @property
    def cell_size(self) -> float:
        """Side of a layout cell: the diagonal of the largest box footprint plus a 5 % gap."""
        return 2 * math.sqrt(2) * self.max_size * 1.05

    @property
    def size_midpoint(self) -> float:
        """Sizes below this are captioned ``small``, the others ``large``."""
        return (self.min_size + self.max_size) / 2

    @model_validator(mode="after")
    def _ranges_consistent(self) -> SceneConfig:
        if self.min_objects > self.max_objects:
            raise ValueError(f"SceneConfig.min_objects must be ≤ max_objects, found {self.min_objects} > "
                             f"{self.max_objects}")
        if self.max_objects > self.layout_grid ** 2:
            raise ValueError(f"SceneConfig.max_objects must be ≤ layout_grid² = {self.layout_grid ** 2} (one "
                             f"object per cell), found {self.max_objects}")
        if self.min_size > self.max_size:
            raise ValueError(f"SceneConfig.min_size must be ≤ max_size, found {self.min_size} > {self.max_size}")
        return self
