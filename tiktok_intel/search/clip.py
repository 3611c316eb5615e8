"""A CLIP model pair run with ONNX Runtime: images and texts to normalised vectors in one space.

Everything the model needs is read from its own files (see :mod:`.models`): the image size,
mean, std, interpolation and resize mode from ``visual/preprocess_cfg.json``; the context length
from ``config.json``; the tokenizer from ``textual/tokenizer.json`` with the pad token of
``textual/tokenizer_config.json``; the input and output names and types from the ONNX graphs
themselves. An export with a fixed batch of 1 (as Immich's are) is run one image at a time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .models import ModelDamagedError, ModelMissingError, check_files

log = logging.getLogger("tiktok_intel.search")

_RESAMPLING = {"bicubic": 3, "bilinear": 2, "nearest": 0, "lanczos": 1, "box": 4, "hamming": 5}
_NUMPY = {"tensor(float)": np.float32, "tensor(int32)": np.int32, "tensor(int64)": np.int64, "tensor(float16)": np.float16}


def _json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ModelMissingError(f"the model folder has no {path.name} ({path}): fetch the model again (`tiktok-intel models fetch`)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ModelDamagedError(f"{path} is damaged (not JSON): fetch the model again (`tiktok-intel models fetch`)") from None
    if not isinstance(data, dict):
        raise ModelDamagedError(f"{path} is damaged (not a JSON object): fetch the model again (`tiktok-intel models fetch`)")
    return data


def _session(path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # ONNX Runtime's own warnings are not the user's business
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - ONNX Runtime raises its own Fail/InvalidProtobuf/RuntimeException kinds
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise ModelDamagedError(
            f"the model file {path} is damaged ({first}): fetch the model again (`tiktok-intel models fetch`)"
        ) from None


def _fixed_batch(session) -> int | None:
    dim = session.get_inputs()[0].shape[0] if session.get_inputs()[0].shape else None
    return dim if isinstance(dim, int) and dim > 0 else None


def normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


class ClipModel:
    """Load once, embed many: ``embed_images([PIL images]) -> (n, dim)``, ``embed_texts([str]) -> (n, dim)``."""

    def __init__(self, folder: str | Path, *, model_id: str | None = None, verify: bool = True):
        self.folder = Path(folder)
        if verify:
            check_files(self.folder)  # sizes against checksums.json: a download cut short is one line
        config = _json(self.folder / "config.json")
        pre = _json(self.folder / "visual" / "preprocess_cfg.json")
        tok_cfg = _json(self.folder / "textual" / "tokenizer_config.json")
        size = pre.get("size", 224)
        self.size = int(size[0] if isinstance(size, list) else size)
        self.mean = np.asarray(pre.get("mean", (0.5, 0.5, 0.5)), dtype=np.float32)
        self.std = np.asarray(pre.get("std", (0.5, 0.5, 0.5)), dtype=np.float32)
        self.resample = _RESAMPLING.get(str(pre.get("interpolation", "bicubic")).lower(), 3)
        self.resize_mode = str(pre.get("resize_mode", "shortest"))
        if self.resize_mode not in ("shortest", "squash"):
            raise ModelDamagedError(
                f"{self.folder / 'visual' / 'preprocess_cfg.json'} asks for resize_mode {self.resize_mode!r}: not supported"
            )
        self.context_length = int((config.get("text_cfg") or {}).get("context_length", tok_cfg.get("model_max_length", 77)))
        self.dim = int(config.get("embed_dim", 0)) or None
        self.tokenizer = self._tokenizer(tok_cfg)
        self.visual = _session(self.folder / "visual" / "model.onnx")
        self.textual = _session(self.folder / "textual" / "model.onnx")
        self.model_id = model_id or self._local_id()
        self._visual_in = self.visual.get_inputs()[0]
        self._text_in = self.textual.get_inputs()
        self._visual_batch = _fixed_batch(self.visual)
        self._text_batch = _fixed_batch(self.textual)
        out_dim = self.visual.get_outputs()[0].shape[-1]
        if self.dim is None and isinstance(out_dim, int):
            self.dim = out_dim

    def _local_id(self) -> str:
        """A copy made by hand: its folder name and a digest of its files' sizes and configuration, so
        another model in a folder of the same name is another model (and re-embeds)."""
        import hashlib

        digest = hashlib.sha256()
        for name in ("config.json", "visual/preprocess_cfg.json", "textual/tokenizer.json", "visual/model.onnx", "textual/model.onnx"):
            path = self.folder / name
            digest.update(f"{name}:{path.stat().st_size}:".encode())
            with path.open("rb") as handle:
                digest.update(handle.read(1 << 20))  # the first MiB: the graph of an external-data export, all of a small one
        return f"local:{self.folder.name}:{digest.hexdigest()[:12]}"

    def _tokenizer(self, tok_cfg: dict[str, Any]):
        from tokenizers import Tokenizer

        path = self.folder / "textual" / "tokenizer.json"
        if not path.is_file():
            raise ModelMissingError(
                f"the model folder has no textual/tokenizer.json ({path}): fetch the model again (`tiktok-intel models fetch`)"
            )
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # noqa: BLE001 - tokenizers raises a bare Exception on a bad file
            raise ModelDamagedError(f"{path} is damaged ({str(exc)[:120]}): fetch the model again (`tiktok-intel models fetch`)") from None
        pad = tok_cfg.get("pad_token")
        pad = pad.get("content") if isinstance(pad, dict) else pad
        pad_id = tokenizer.token_to_id(pad) if pad else None
        if pad_id is None:
            pad, pad_id = "<pad>", 0
        tokenizer.enable_padding(length=self.context_length, pad_token=pad, pad_id=pad_id)
        tokenizer.enable_truncation(max_length=self.context_length)
        return tokenizer

    # -- images
    def preprocess(self, image) -> np.ndarray:
        """One PIL image -> ``(3, size, size)`` float32, as the model's preprocess_cfg.json says."""
        image = image.convert("RGB")
        if self.resize_mode == "squash":
            image = image.resize((self.size, self.size), resample=self.resample)
        else:  # resize the shorter side to `size`, then crop the centre
            w, h = image.size
            scale = self.size / min(w, h)
            nw, nh = max(self.size, round(w * scale)), max(self.size, round(h * scale))
            image = image.resize((nw, nh), resample=self.resample)
            left, top = (nw - self.size) // 2, (nh - self.size) // 2
            image = image.crop((left, top, left + self.size, top + self.size))
        array = np.asarray(image, dtype=np.float32) / 255.0
        return ((array - self.mean) / self.std).transpose(2, 0, 1)

    def embed_images(self, images: Sequence) -> np.ndarray:
        if not images:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        batch = np.stack([self.preprocess(im) for im in images]).astype(_NUMPY.get(self._visual_in.type, np.float32))
        return normalise(self._run(self.visual, {self._visual_in.name: batch}, self._visual_batch))

    # -- texts
    def tokenize(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        encodings = self.tokenizer.encode_batch([" ".join(str(t).split()) for t in texts])
        values = {
            "input_ids": np.asarray([e.ids for e in encodings]),
            "attention_mask": np.asarray([e.attention_mask for e in encodings]),
            "text": np.asarray([e.ids for e in encodings]),  # open_clip exports name their one input `text`
        }
        feeds = {}
        for spec in self._text_in:
            if spec.name not in values:
                raise ModelDamagedError(
                    f"the text encoder {self.folder / 'textual' / 'model.onnx'} wants an input {spec.name!r}: not a CLIP export this workbench knows"
                )
            feeds[spec.name] = values[spec.name].astype(_NUMPY.get(spec.type, np.int64))
        return feeds

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        return normalise(self._run(self.textual, self.tokenize(texts), self._text_batch))

    def _run(self, session, feeds: dict[str, np.ndarray], fixed: int | None) -> np.ndarray:
        n = len(next(iter(feeds.values())))
        step = fixed or n
        parts = []
        try:
            for start in range(0, n, step):
                parts.append(session.run(None, {k: v[start : start + step] for k, v in feeds.items()})[0])
        except Exception as exc:  # noqa: BLE001 - ONNX Runtime's errors carry no common base
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
            raise ModelDamagedError(
                f"the model in {self.folder} failed to run ({first}): fetch it again (`tiktok-intel models fetch`)"
            ) from None
        out = np.concatenate(parts).astype(np.float32)
        return out.reshape(n, -1)


_CACHE: dict[tuple[str, float], ClipModel] = {}


def load(folder: str | Path | None = None, *, settings=None) -> ClipModel:
    """The model the settings name (see :func:`.models.model_path`), loaded once per process."""
    from .models import DEFAULT, model_path

    path = Path(folder) if folder is not None else model_path(settings)
    manifest = path / "checksums.json"
    key = (str(path.resolve()), manifest.stat().st_mtime if manifest.exists() else 0.0)
    if key not in _CACHE:
        try:
            recorded = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else {}
        except ValueError:
            recorded = {}
        model_id = None
        if recorded.get("model") == DEFAULT.name and recorded.get("revision") == DEFAULT.revision:
            model_id = DEFAULT.model_id
        _CACHE.clear()
        _CACHE[key] = ClipModel(path, model_id=model_id)
    return _CACHE[key]
