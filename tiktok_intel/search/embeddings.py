"""Extension point for semantic image embeddings (e.g. a CLIP model you already have on disk).

The built-in search by meaning (a multilingual CLIP pair in ONNX, stored vectors, `search --meaning`)
is :mod:`tiktok_intel.search.semantic`; this protocol stays for a model of your own in a notebook.

To use another model in a notebook, register an
object that turns images into vectors; :func:`embed_media` runs it over the collected images and
:func:`nearest` finds the closest ones to a query vector (cosine similarity, brute force)::

    import open_clip, torch
    from tiktok_intel.search import embeddings

    class LocalClip:
        name, dim = "clip-vit-b32", 512
        def __init__(self):
            self.model, _, self.preprocess = open_clip.create_model_and_transforms(
                "ViT-B-32", pretrained="/models/clip/open_clip_pytorch_model.bin")   # a local file
        def embed_images(self, images):
            with torch.no_grad():
                batch = torch.stack([self.preprocess(im) for im in images])
                return self.model.encode_image(batch).numpy()

    embeddings.register("clip", LocalClip)
    keys, vectors = embeddings.embed_media(con, embeddings.get("clip"))

See ``docs/search.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import duckdb
import numpy as np

from ..settings import get_settings
from .errors import SearchError


@runtime_checkable
class ImageEmbedder(Protocol):
    """What a plug-in provides: a name, the vector size, and a batch of PIL images -> ``(n, dim)`` array."""

    name: str
    dim: int

    def embed_images(self, images: Sequence) -> np.ndarray: ...


_REGISTRY: dict[str, Callable[[], ImageEmbedder]] = {}


def register(name: str, factory: Callable[[], ImageEmbedder]) -> None:
    """Make ``factory`` (a class or function returning an :class:`ImageEmbedder`) available as ``name``."""
    _REGISTRY[name] = factory


def available() -> list[str]:
    return sorted(_REGISTRY)


def get(name: str) -> ImageEmbedder:
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise SearchError(
            f"no image embedder named {name!r} (registered: {', '.join(available()) or 'none'}): "
            "register one with tiktok_intel.search.embeddings.register"
        ) from None
    embedder = factory()
    if not isinstance(embedder, ImageEmbedder):
        raise SearchError(f"embedder {name!r} lacks name, dim or embed_images(): see docs/search.md")
    return embedder


def embed_media(con: duckdb.DuckDBPyConnection, embedder: ImageEmbedder, *, batch: int = 32) -> tuple[list[tuple], np.ndarray]:
    """Embed every image in ``media``: ``[(post_id, kind, seq), ...]`` and an L2-normalised ``(n, dim)`` array."""
    from .fetch import open_image

    rows = con.execute("SELECT post_id, kind, seq, path FROM media ORDER BY post_id, kind, seq").fetchall()
    media_dir = get_settings().media_dir
    keys, parts = [], []
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        images = [open_image(media_dir / r[3]) for r in chunk]
        parts.append(np.asarray(embedder.embed_images(images), dtype=np.float32))
        keys.extend(r[:3] for r in chunk)
    matrix = np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return keys, matrix / np.where(norms == 0, 1, norms)


def nearest(matrix: np.ndarray, vector: np.ndarray, k: int = 20) -> list[tuple[int, float]]:
    """Rows of a normalised ``matrix`` most similar to ``vector``: ``[(row, cosine), ...]`` best first."""
    v = np.asarray(vector, dtype=np.float32).ravel()
    v = v / (np.linalg.norm(v) or 1)
    scores = matrix @ v
    top = np.argsort(-scores)[:k]
    return [(int(i), float(scores[i])) for i in top]
