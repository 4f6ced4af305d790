"""Drawn visuals: text set on a white page, and detection boxes with class names over an image."""

from __future__ import annotations

import textwrap

from PIL import Image, ImageDraw, ImageFont

from mm4m.core.render.colors import label_color
from mm4m.core.tokenizers.serializers import Detections

TEXT_WIDTH_CHARS = 64
TEXT_MARGIN = 8
FONT_SIZE = 14
LINE_HEIGHT = 18
CANVAS_SIZE = 256
"""Side of the grey canvas boxes are drawn on when no image is given."""
BOX_WIDTH = 2


def text_picture(text: str) -> Image.Image:
    """``text`` wrapped at 64 characters, black on white."""
    lines = [wrapped for paragraph in text.splitlines() or [""]
             for wrapped in (textwrap.wrap(paragraph, TEXT_WIDTH_CHARS) or [""])]
    font = ImageFont.load_default(size=FONT_SIZE)
    width = 2 * TEXT_MARGIN + max(int(font.getlength(line)) for line in lines)
    picture = Image.new("RGB", (max(width, 2 * TEXT_MARGIN + 1), 2 * TEXT_MARGIN + LINE_HEIGHT * len(lines)),
                        "white")
    draw = ImageDraw.Draw(picture)
    for row, line in enumerate(lines):
        draw.text((TEXT_MARGIN, TEXT_MARGIN + row * LINE_HEIGHT), line, fill="black", font=font)
    return picture


def boxes_picture(detections: Detections, background: Image.Image | None = None) -> Image.Image:
    """Each box outlined in its class's colour and captioned with the class name (and score when known)."""
    picture = (background.convert("RGB").copy() if background is not None
               else Image.new("RGB", (CANVAS_SIZE, CANVAS_SIZE), (128, 128, 128)))
    draw = ImageDraw.Draw(picture)
    width, height = picture.size
    font = ImageFont.load_default()
    for detection in detections.instances:
        box = detection.box
        corners = (box.xmin * (width - 1), box.ymin * (height - 1), box.xmax * (width - 1), box.ymax * (height - 1))
        color = label_color(sum(map(ord, detection.class_name)))
        draw.rectangle(corners, outline=color, width=BOX_WIDTH)
        caption = detection.class_name if detection.score is None else f"{detection.class_name} {detection.score:.2f}"
        left, top, right, bottom = draw.textbbox((corners[0], corners[1]), caption, font=font)
        draw.rectangle((left, top, right, bottom), fill=color)
        draw.text((corners[0], corners[1]), caption, fill="white", font=font)
    return picture
