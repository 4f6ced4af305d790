"""Turn a modality's data (raw, or decoded from tokens) into a picture a person can look at.

The visual is picked from the modality spec (``visual_for``): depth as a colour map, semantic labels as a palette,
normals and RGB as images, feature maps by PCA, global vectors as a heat strip, detections as boxes, text as text.
"""

from mm4m.core.render.render import RenderError, render, save_png
from mm4m.core.render.visuals import Visual, visual_for

__all__ = ["RenderError", "Visual", "render", "save_png", "visual_for"]
