"""Synthetic covers for tests, benchmarks and demos: pictures with a text overlay, and their near-duplicates."""

from __future__ import annotations

import io
import random
from pathlib import Path

_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)


def find_font() -> str | None:
    """A TrueType font on this system (DejaVu from Debian or the one matplotlib ships), or None."""
    for candidate in _FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    try:
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
        return str(path) if path.is_file() else None
    except ImportError:
        return None


def make_cover(seed: int, text: str | None = None, size: tuple[int, int] = (540, 960)):
    """A cover-like picture: a random coloured scene (shapes differ by ``seed``), with ``text`` in
    large black letters on a white band when given."""
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size, tuple(rng.randrange(40, 216) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = rng.randrange(-width // 4, width), rng.randrange(-height // 4, height)
        x1, y1 = x0 + rng.randrange(width // 6, width // 1), y0 + rng.randrange(height // 8, height // 2)
        color = tuple(rng.randrange(0, 256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=color)
    if text:
        font_path = find_font()
        points = max(20, width // 12)
        while True:
            font = ImageFont.truetype(font_path, points) if font_path else ImageFont.load_default()
            box = draw.textbbox((0, 0), text, font=font)
            if box[2] - box[0] <= width - 60 or points <= 14 or not font_path:
                break
            points -= 2
        tw, th = box[2] - box[0], box[3] - box[1]
        x, y = max(10, (width - tw) // 2), int(height * 0.7)
        draw.rectangle([x - 16, y - 16, x + tw + 16, y + th + 24], fill="white")
        draw.text((x - box[0], y - box[1]), text, font=font, fill="black")
    return image


def near_duplicate(image, how: str):
    """A re-upload of ``image``: ``resize``, ``jpeg`` (re-encoded at low quality), ``crop`` (3 % off the
    edges), or ``bright`` (10 % brighter)."""
    from PIL import Image, ImageEnhance

    width, height = image.size
    if how == "resize":
        return image.resize((width * 2 // 3, height * 2 // 3), Image.LANCZOS)
    if how == "jpeg":
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=35)
        return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    if how == "crop":
        dx, dy = width * 3 // 100, height * 3 // 100
        return image.crop((dx, dy, width - dx, height - dy))
    if how == "bright":
        return ImageEnhance.Brightness(image).enhance(1.1)
    raise ValueError(f"unknown variation {how!r}")
