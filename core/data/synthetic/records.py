"""Per-scene structured ground truth: the visible objects (with det boxes), caption, palette and metadata."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

UnitInterval = Annotated[float, Field(ge=0.0, le=1.0)]
Channel = Annotated[int, Field(ge=0, le=255)]


class ObjectRecord(BaseModel):
    """One object with at least one visible pixel; coordinates are normalised to the image (x right, y down)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instance_id: int = Field(ge=1, description="Its id in the instance map (0 is the ground).")
    shape: str = Field(description="Primitive noun, also the det class name: sphere, box or cylinder.")
    colour: str = Field(description="Name of its albedo colour (see vocabulary.OBJECT_COLOURS).")
    size_word: Literal["small", "large"] = Field(description="Small below the middle of the size range.")
    size: float = Field(gt=0, description="Sampled size s (scene units): the sphere radius; box half-extents and "
                                          "cylinder radii are 0.7–1 × s.")
    box: tuple[UnitInterval, UnitInterval, UnitInterval, UnitInterval] = Field(
        description="Tight box of its visible pixels: (x1, y1, x2, y2) pixel edges divided by the image size.")
    pixel_count: int = Field(ge=1, description="Visible pixels.")
    centroid_x: UnitInterval = Field(description="Mean x of its visible pixel centres.")
    mean_depth: float = Field(gt=0, description="Mean depth over its visible pixels (scene units).")


class SceneRecord(BaseModel):
    """Structured modalities of one scene: det (via ``objects``), caption, color_palette and metadata."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    objects: tuple[ObjectRecord, ...] = Field(description="Visible objects, most pixels first.")
    caption: str
    palette: tuple[tuple[Channel, Channel, Channel], ...] = Field(
        min_length=1, max_length=7, description="Albedos (0–255) of the visible surfaces, most pixels first.")
    metadata: dict[str, float] = Field(description="Computable 4M metadata values by spec §1.6 name (unbinned).")
