"""Cover pictures for the offline TikTok, drawn with Pillow, deterministic per post.

* ``text`` covers carry a caption in large type on a band ("Valet 2026 #svtnyheter"), for OCR;
* ``dup`` covers are near-duplicates within a group: the same picture re-encoded, resized,
  slightly brightened or cropped, for perceptual-hash search;
* ``plain`` covers are unrelated pictures.
"""

from __future__ import annotations

import functools
import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFont

from .world import Post

SIZE = (360, 640)
_FONT_CANDIDATES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf")


@functools.lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.ImageFont:
    for candidate in _FONT_CANDIDATES:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size=size)


def _scene(seed: int) -> Image.Image:
    """A picture made of a gradient and a few shapes, determined by ``seed``."""
    rng = random.Random(seed)
    top = tuple(rng.randrange(256) for _ in range(3))
    bottom = tuple(rng.randrange(256) for _ in range(3))
    strip = Image.new("RGB", (1, 2))
    strip.putpixel((0, 0), top)
    strip.putpixel((0, 1), bottom)
    image = strip.resize(SIZE, Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(3, 7)):
        x0, y0 = rng.randrange(SIZE[0]), rng.randrange(SIZE[1])
        w, h = rng.randint(40, 220), rng.randint(40, 260)
        color = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x0, y0, x0 + w, y0 + h], fill=color)
    return image


def _caption(image: Image.Image, text: str) -> Image.Image:
    draw = ImageDraw.Draw(image)
    font = _font(30)
    box = draw.textbbox((0, 0), text, font=font)
    width = box[2] - box[0]
    while width > SIZE[0] - 24 and font.size > 14:
        font = _font(font.size - 2)
        box = draw.textbbox((0, 0), text, font=font)
        width = box[2] - box[0]
    height = box[3] - box[1]
    y = SIZE[1] // 2 - height
    draw.rectangle([0, y - 18, SIZE[0], y + height + 18], fill=(255, 255, 255))
    draw.text(((SIZE[0] - width) // 2 - box[0], y - box[1]), text, fill=(0, 0, 0), font=font)
    return image


def _alter(image: Image.Image, variant: int) -> tuple[Image.Image, int]:
    """A near-duplicate: slightly brighter or darker, a little cropped or rescaled; and a JPEG quality."""
    rng = random.Random(variant)
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.92, 1.08))
    choice = variant % 3
    if choice == 0:
        image = image.resize((SIZE[0] * 2 // 3, SIZE[1] * 2 // 3))
    elif choice == 1:
        dx, dy = rng.randint(2, 10), rng.randint(2, 14)
        image = image.crop((dx, dy, SIZE[0] - dx, SIZE[1] - dy)).resize(SIZE)
    return image, rng.choice((60, 75, 90))


@functools.lru_cache(maxsize=512)
def cover_jpeg(post: Post) -> bytes:
    """The post's cover as JPEG bytes."""
    quality = 85
    if post.cover_kind == "dup":
        image = _scene(post.cover_group * 7919 + 1)
        if post.cover_variant != post.cover_group:
            image, quality = _alter(image, post.cover_variant)
    elif post.cover_kind == "text":
        image = _caption(_scene(post.cover_variant * 7919 + 1), post.overlay)
    else:
        image = _scene(post.cover_variant * 7919 + 1)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


@functools.lru_cache(maxsize=8)
def avatar_jpeg(author_id: str) -> bytes:
    image = _scene(int(author_id) % 100_003).resize((100, 100))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()
