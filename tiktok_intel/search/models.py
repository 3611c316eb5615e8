"""The image-and-text models for search by meaning, named in one place, and where their files are.

A model is a CLIP-family pair exported to ONNX the way Immich's machine-learning service ships
them: a folder holding ``config.json`` (``embed_dim``, ``text_cfg.context_length``),
``visual/model.onnx`` with ``visual/preprocess_cfg.json`` (size, mean, std, interpolation,
resize mode), and ``textual/model.onnx`` (with its external weight files) beside the model's own
``textual/tokenizer.json`` and ``textual/tokenizer_config.json``. Nothing about preprocessing or
tokenisation is hard-coded here: :mod:`.clip` reads it from those files.

Where the model is, in order: ``TIKTOK_INTEL_CLIP_MODEL`` (a folder you copied by hand, for a
machine without internet), else ``<workspace>/models/<name>/`` as ``tiktok-intel models fetch``
leaves it. A fetched folder has ``checksums.json`` (sha256 and size of every file, as the hub
gave them for the pinned revision); it is checked before the model is used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from pathlib import Path

from ..settings import Settings, get_settings
from .errors import SearchError

log = logging.getLogger("tiktok_intel.search")

MANIFEST = "checksums.json"


class ModelMissingError(SearchError):
    """No model where the settings say: one line naming `tiktok-intel models fetch` and the setting."""


class ModelDamagedError(SearchError):
    """A model file that is cut short, changed or not a model: one line naming the fix."""


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One model pair: what it is, where it comes from, and the names and types of its inputs and outputs."""

    name: str
    repo: str  # Hugging Face repository
    revision: str  # the commit pinned (a revision is a git commit: it fixes every file's LFS sha256)
    licence: str
    size: str  # download size, as the hub lists it
    source: str  # what the two encoders are, and who trained them
    languages: str
    dim: int
    files: tuple[str, ...]  # patterns of the files to fetch (huggingface_hub allow_patterns)
    ignore: tuple[str, ...]  # files of the repository not needed on a CPU (ARM NN, RKNN, fp16 copies)
    visual_input: str = "image"  # float32 [batch, 3, size, size], normalised by preprocess_cfg.json
    visual_output: str = "embedding"  # float32 [batch, dim]
    text_inputs: tuple[str, ...] = ("input_ids", "attention_mask")  # int32 [batch, context_length]
    text_output: str = "embedding"  # float32 [batch, dim]
    checksums: tuple[tuple[str, str], ...] = ()  # (file, sha256) known in advance; the rest come from the hub at `revision`

    @property
    def model_id(self) -> str:
        """What ``image_embeddings.model`` records: vectors of another model id are not comparable."""
        return f"{self.name}@{self.revision[:12]}"

    def describe(self) -> str:
        return f"{self.name} ({self.repo} at {self.revision[:12]}; {self.licence}; {self.size}; {self.languages})"


#: The default: OpenAI's CLIP ViT-B/32 image encoder, and M-CLIP's XLM-RoBERTa-Large text encoder
#: with its linear projection, trained (by teacher learning) to put a sentence in any of its ~100
#: languages where CLIP's English text encoder puts its English translation: Swedish and English
#: queries land in the same 512-d space as the images. Immich's ONNX export (its `XLM-Roberta-Large-Vit-B-32`
#: model); inputs and outputs as Immich's exporter names them (`image` -> `embedding`,
#: `input_ids` + `attention_mask` -> `embedding`, both already L2-normalised).
DEFAULT = ModelSpec(
    name="XLM-Roberta-Large-Vit-B-32",
    repo="immich-app/XLM-Roberta-Large-Vit-B-32",
    revision="c2683ea772729a8023e6f6e41f75ac4653b43dc5",
    licence="MIT (OpenAI CLIP; M-CLIP, FreddeFrallan/Multilingual-CLIP)",
    size="about 2.6 GB (visual/model.onnx 351 MB; textual: XLM-RoBERTa Large, 560M parameters in fp32 external-data files)",
    source="visual: openai/clip-vit-base-patch32 (ViT-B/32); textual: M-CLIP/XLM-Roberta-Large-Vit-B-32, exported to ONNX by Immich",
    languages="about 100 languages, Swedish and English among them",
    dim=512,
    files=("config.json", "visual/model.onnx", "visual/preprocess_cfg.json", "textual/*"),
    ignore=("*.armnn", "*.rknn", "*/fp16/*", "*/rknpu/*"),
)

#: Every model the workbench knows by name (``tiktok-intel models fetch --model NAME``).
MODELS: dict[str, ModelSpec] = {DEFAULT.name: DEFAULT}


def spec(name: str | None = None) -> ModelSpec:
    if not name:
        return DEFAULT
    try:
        return MODELS[name]
    except KeyError:
        raise SearchError(f"no model named {name!r}: known models are {', '.join(sorted(MODELS))}") from None


def models_dir(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).workspace_path / "models"


def _how_to_get(settings: Settings) -> str:
    return (
        f"run `tiktok-intel models fetch` where there is internet (it downloads {DEFAULT.name} into {models_dir(settings)}), "
        "or set TIKTOK_INTEL_CLIP_MODEL to a folder holding a copy"
    )


def model_path(settings: Settings | None = None) -> Path:
    """The folder of the model to use; :class:`ModelMissingError` when there is none."""
    settings = settings or get_settings()
    chosen = str(settings.clip_model or "").strip()
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_dir():
            raise ModelMissingError(
                f"TIKTOK_INTEL_CLIP_MODEL={chosen} is not a folder: point it at a model folder, or {_how_to_get(settings)}",
                key="err_no_model",
            )
    else:
        path = models_dir(settings) / DEFAULT.name
        if not path.is_dir():
            raise ModelMissingError(f"no model for search by meaning: {_how_to_get(settings)}", key="err_no_model")
    for needed in ("visual/model.onnx", "textual/model.onnx"):
        if not (path / needed).is_file():
            raise ModelMissingError(f"the model folder {path} has no {needed}: {_how_to_get(settings)}", key="err_no_model")
    return path


def available(settings: Settings | None = None) -> bool:
    try:
        model_path(settings)
    except ModelMissingError:
        return False
    return True


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: Path) -> dict[str, dict]:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): dict(v) for k, v in data.get("files", {}).items()}
    except (ValueError, AttributeError, TypeError):
        raise ModelDamagedError(f"{path} is not a checksum list: run `tiktok-intel models fetch` again") from None


def check_files(folder: Path, *, full: bool = False) -> int:
    """Compare the model's files with ``checksums.json``: sizes always, sha256 with ``full``. Returns
    the files checked (0 when the folder has no manifest, as a hand-made copy may not);
    :class:`ModelDamagedError` on the first difference."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    for name, entry in manifest.items():
        path = folder / name
        if not path.is_file():
            raise ModelDamagedError(f"the model file {path} is missing: run `tiktok-intel models fetch` again")
        size = path.stat().st_size
        if entry.get("size") is not None and size != int(entry["size"]):
            raise ModelDamagedError(
                f"the model file {path} is {size:,} bytes, not {int(entry['size']):,} (cut short or changed): run `tiktok-intel models fetch` again"
            )
        if full and entry.get("sha256") and sha256_file(path) != entry["sha256"]:
            raise ModelDamagedError(f"the model file {path} does not match its sha256: run `tiktok-intel models fetch` again")
    return len(manifest)


def write_manifest(folder: Path, model: ModelSpec, expected: dict[str, str | None]) -> dict[str, dict]:
    """Hash every fetched file, compare with the hub's sha256 where it gave one, and write ``checksums.json``."""
    folder = Path(folder)
    files: dict[str, dict] = {}
    for name in sorted(expected):
        path = folder / name
        digest = sha256_file(path)
        want = expected[name]
        if want and digest != want:
            raise ModelDamagedError(f"{path} does not match the sha256 the hub gives for {model.repo}@{model.revision[:12]}: fetch again")
        files[name] = {"sha256": digest, "size": path.stat().st_size}
    (folder / MANIFEST).write_text(
        json.dumps({"model": model.name, "repo": model.repo, "revision": model.revision, "files": files}, indent=1), encoding="utf-8"
    )
    return files


def fetch(model: ModelSpec | None = None, *, dest: Path | None = None, settings: Settings | None = None) -> Path:
    """Download ``model`` (default :data:`DEFAULT`) at its pinned revision into ``<workspace>/models/<name>/``
    through ``huggingface_hub``, check each file's sha256 against the hub's (and the registry's), and
    write ``checksums.json``. Resumes a download cut short. Returns the folder."""
    import fnmatch

    try:
        from huggingface_hub import HfApi, snapshot_download
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
    except ImportError:  # pragma: no cover - a core dependency
        raise SearchError("huggingface_hub is not installed: pip install huggingface_hub") from None
    model = model or DEFAULT
    settings = settings or get_settings()
    folder = Path(dest) if dest is not None else models_dir(settings) / model.name
    folder.mkdir(parents=True, exist_ok=True)
    try:
        info = HfApi().model_info(model.repo, revision=model.revision, files_metadata=True)
        expected: dict[str, str | None] = {}
        for sibling in info.siblings or []:
            name = sibling.rfilename
            if not any(fnmatch.fnmatch(name, p) for p in model.files) or any(fnmatch.fnmatch(name, p) for p in model.ignore):
                continue
            lfs = getattr(sibling, "lfs", None)
            expected[name] = (lfs.get("sha256") if isinstance(lfs, dict) else getattr(lfs, "sha256", None)) if lfs else None
        expected.update(dict(model.checksums))
        snapshot_download(
            repo_id=model.repo,
            revision=model.revision,
            allow_patterns=list(model.files),
            ignore_patterns=list(model.ignore),
            local_dir=folder,
        )
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise SearchError(
            f"cannot download {model.repo}@{model.revision[:12]} ({first}): run it where huggingface.co is reachable, "
            f"or copy the folder by hand and set TIKTOK_INTEL_CLIP_MODEL"
        ) from None
    write_manifest(folder, model, expected)
    return folder
