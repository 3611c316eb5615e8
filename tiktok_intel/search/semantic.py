"""Search by meaning: image vectors from a CLIP model, stored, ranked, and fused with the text search.

* :func:`embed_media` (the media step calls it): every image in ``media`` without a vector of the
  model in use gets one, in batches, at most ``embed_max_per_run`` a run; an unchanged image and
  model is never embedded twice; a new model replaces the vectors over the next runs.
* :func:`search_meaning` (words, any of the model's languages) and :func:`search_similar` (an
  image file, URL or post id): posts ranked by the cosine of their best image, after the filters.
* Ranking (:class:`VectorSet`): up to ``semantic_exact_max`` vectors (or allowed by the filters),
  an exact dot product over all of them; above, a product-quantization index (faiss PQ fast-scan,
  kept under ``<workspace>/search/``) gives candidates that are re-scored exactly and filtered,
  widening until the limit is filled or falling back to exact.
* :func:`fuse`: words and meaning together by reciprocal rank fusion, ``sum 1 / (60 + rank)``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from .. import clock
from ..conventions import author_sql, post_url_sql, tracked_posts_sql
from ..progress import progress
from ..settings import Settings, get_settings
from ..store.database import of_posts
from .errors import ImageInputError, QueryError, SearchError
from .fetch import download, open_image
from .hashing import save_rows
from .models import ModelDamagedError, ModelMissingError

log = logging.getLogger("tiktok_intel.search")

#: Reciprocal rank fusion's constant (Cormack et al. 2009): large enough that rank 1 and 2 differ little.
RRF_K = 60
#: Candidates the approximate index gives per row wanted, each re-scored exactly (bench/semantic.py:
#: 100 keep recall@10 at 0.998 over 1,000,000 random vectors, where 50 kept 0.97).
CANDIDATES_PER_HIT = 100
#: Vectors the index's quantizer is trained on (a fixed sample of larger sets).
_TRAIN_MAX = 100_000
#: Above this many vectors the exact ranking scans with faiss rather than numpy.
_SCAN_MIN = 4096


# ------------------------------------------------------------------------------------ embedding


@dataclasses.dataclass
class EmbedResult:
    embedded: int = 0
    unreadable: int = 0
    left: int = 0  # still to do (the per-run limit, or a model change under way)
    model: str | None = None
    skipped: str | None = None  # why nothing was embedded (no model, damaged model)

    def summary(self) -> str:
        if self.skipped:
            return f"no images embedded ({self.skipped})"
        text = f"{self.embedded} images embedded" + (f" ({self.unreadable} unreadable)" if self.unreadable else "")
        return text + (f", {self.left} left for the next runs" if self.left else "")


_PENDING = """
SELECT m.post_id, m.kind, m.seq, m.path, m.sha256 FROM media m
LEFT JOIN image_embeddings e ON e.post_id = m.post_id AND e.kind = m.kind AND e.seq = m.seq
WHERE e.media_sha256 IS DISTINCT FROM m.sha256 OR e.model IS DISTINCT FROM ?
ORDER BY (m.kind <> 'cover'), m.post_id, m.kind, m.seq
"""


def pending_embeddings(con: duckdb.DuckDBPyConnection, model_id: str, posts: list[str] | None = None) -> list[tuple]:
    """Media rows with no vector of ``model_id`` for their current file (covers first; of ``posts`` when given)."""
    return of_posts(con, _PENDING, [model_id], posts)


def embed_media(
    con: duckdb.DuckDBPyConnection,
    model: Any = None,
    *,
    batch: int | None = None,
    limit: int | None = None,
    settings: Settings | None = None,
    posts: list[str] | None = None,
) -> EmbedResult:
    """Embed the images that have no vector of the model in use (of ``posts`` when given). No model: nothing, said once in the log;
    a damaged model: one warning line. Never raises for a bad image (its row records why)."""
    settings = settings or get_settings()
    if model is None:
        from . import clip

        try:
            model = clip.load(settings=settings)
        except ModelMissingError as exc:
            log.info("search by meaning: %s", exc)
            return EmbedResult(skipped="no model: `tiktok-intel models fetch`")
        except ModelDamagedError as exc:
            log.warning("search by meaning: %s", exc)
            return EmbedResult(skipped="the model is damaged: `tiktok-intel models fetch`")
    batch = max(1, int(batch or settings.embed_batch))
    limit = int(settings.embed_max_per_run if limit is None else limit)
    todo = pending_embeddings(con, model.model_id, posts)
    result = EmbedResult(model=model.model_id)
    if limit > 0 and len(todo) > limit:
        result.left = len(todo) - limit
        todo = todo[:limit]
    media_dir = settings.media_dir
    columns = ("post_id", "kind", "seq", "media_sha256", "model", "dim", "embedding", "error", "embedded_at")
    bar = progress(total=len(todo), desc="embed images", unit="img")
    try:
        for start in range(0, len(todo), batch):
            chunk = todo[start : start + batch]
            images, good, rows = [], [], []
            for post_id, kind, seq, rel, sha in chunk:
                try:
                    images.append(open_image(media_dir / rel))
                    good.append((post_id, kind, seq, sha))
                except ImageInputError as exc:
                    rows.append((post_id, kind, seq, sha, model.model_id, None, None, str(exc)[:500]))
            if images:
                vectors = np.asarray(model.embed_images(images), dtype=np.float32)
                for key, vector in zip(good, vectors):
                    rows.append((*key, model.model_id, int(vector.shape[0]), vector.tolist(), None))
            now = clock.now()
            save_rows(con, "image_embeddings", columns, [r + (now,) for r in rows])
            result.unreadable += sum(1 for r in rows if r[6] is None)
            result.embedded += sum(1 for r in rows if r[6] is not None)
            bar.update(len(chunk))
    finally:
        bar.close()
    return result


# ------------------------------------------------------------------------------------ vectors in memory


def _fingerprint(con: duckdb.DuckDBPyConnection, model_id: str) -> str:
    count, mix = con.execute(
        "SELECT count(*), bit_xor(hash(post_id, kind, seq, media_sha256)) FROM image_embeddings WHERE model = ? AND embedding IS NOT NULL",
        [model_id],
    ).fetchone()
    return f"{count}:{mix or 0}"


class VectorSet:
    """The vectors of one model, in memory (a notebook keeps one; the CLI loads one per call)."""

    def __init__(self, keys: list[tuple], matrix: np.ndarray, *, model_id: str = "", fingerprint: str = "", index_dir: Path | None = None):
        self.keys = keys  # (post_id, kind, seq) per row
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self.post_ids = np.asarray([k[0] for k in keys], dtype=object)
        self.model_id = model_id
        self.fingerprint = fingerprint
        self.index_dir = index_dir
        self._ann = None

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def from_db(cls, con: duckdb.DuckDBPyConnection, model_id: str, *, index_dir: Path | None = None) -> VectorSet:
        table = con.execute(
            "SELECT post_id, kind, seq, embedding FROM image_embeddings WHERE model = ? AND embedding IS NOT NULL ORDER BY post_id, kind, seq",
            [model_id],
        ).to_arrow_table()
        n = table.num_rows
        keys = list(zip(table.column("post_id").to_pylist(), table.column("kind").to_pylist(), table.column("seq").to_pylist()))
        if n:
            flat = table.column("embedding").combine_chunks().flatten().to_numpy(zero_copy_only=False)
            matrix = np.asarray(flat, dtype=np.float32).reshape(n, -1)
        else:
            matrix = np.zeros((0, 0), dtype=np.float32)
        return cls(keys, matrix, model_id=model_id, fingerprint=_fingerprint(con, model_id), index_dir=index_dir)

    # -- ranking
    def exact(self, query: np.ndarray, k: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers and cosines of the ``k`` best rows (of ``rows`` when given), best first (ties: lower row first)."""
        candidates = None if rows is None else np.asarray(rows, dtype=np.int64)
        data = self.matrix if candidates is None else self.matrix[candidates]
        k = min(int(k), len(data))
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if len(data) > _SCAN_MIN:
            # faiss's scan (SIMD, both cores) is several times numpy's matrix-vector product here;
            # its few best are re-scored below so that the order is the same as numpy's
            import faiss

            _, found = faiss.knn(query[None, :], data, min(len(data), k + 16), metric=faiss.METRIC_INNER_PRODUCT)
            top = found[0][found[0] >= 0]
            scores = data[top] @ query
        else:
            scores = data @ query
            top = np.arange(len(data))
        order = np.lexsort((top, -scores))[:k]
        top, scores = top[order], scores[order]
        found = top if candidates is None else candidates[top]
        return found.astype(np.int64), scores.astype(np.float32)

    def ann(self):
        """The approximate index of these vectors (faiss PQ fast-scan): loaded from ``index_dir`` when it
        matches, else built (and saved)."""
        if self._ann is not None:
            return self._ann
        import faiss

        dim = self.matrix.shape[1]
        path = meta = None
        if self.index_dir is not None:
            tag = hashlib.sha256(f"{self.model_id}|{self.fingerprint}".encode()).hexdigest()[:16]
            path = self.index_dir / f"vectors-{tag}.faiss"
            meta = path.with_suffix(".json")
            if path.is_file() and meta.is_file():
                try:
                    if json.loads(meta.read_text(encoding="utf-8")).get("fingerprint") == self.fingerprint:
                        self._ann = faiss.read_index(str(path))
                        return self._ann
                except (OSError, ValueError, RuntimeError):
                    pass  # a damaged index file is rebuilt
        # dim/2 sub-quantizers of 4 bits (two dimensions each, a quarter byte per dimension): at 1,000,000
        # random 512-d vectors 128 MB, and its 100 candidates a hit re-scored exactly keep recall@10 at
        # 0.998 in 5 ms (bench/semantic.py; dim/4 sub-quantizers kept 0.91)
        index = faiss.IndexPQFastScan(dim, dim // 2 if dim % 2 == 0 else dim, 4, faiss.METRIC_INNER_PRODUCT)
        sample = self.matrix
        if len(self) > _TRAIN_MAX:
            sample = self.matrix[np.sort(np.random.default_rng(0).choice(len(self), _TRAIN_MAX, replace=False))]
        elif len(self) < 39 * 16:  # k-means wants 39 points per centroid (16 a sub-quantizer): repeat a small set
            sample = np.resize(self.matrix, (39 * 16, dim))
        index.train(sample)
        index.add(self.matrix)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            for old in [*path.parent.glob("vectors-*.faiss"), *path.parent.glob("vectors-*.usearch")]:  # older states' indexes
                old.unlink(missing_ok=True)
                old.with_suffix(".json").unlink(missing_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".faiss")
            os.close(fd)
            faiss.write_index(index, tmp)
            os.replace(tmp, path)
            meta.write_text(json.dumps({"model": self.model_id, "fingerprint": self.fingerprint, "rows": len(self)}), encoding="utf-8")
        self._ann = index
        return index

    def search(
        self, query: np.ndarray, k: int, *, allowed: np.ndarray | None = None, exact_max: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` rows nearest ``query`` among ``allowed`` (a boolean mask; None: all), best first,
        with exact cosines. Exact when the candidates are at most ``exact_max``; else the index's
        ``CANDIDATES_PER_HIT`` candidates a row wanted, re-scored exactly."""
        query = np.asarray(query, dtype=np.float32).ravel()
        query = query / (np.linalg.norm(query) or 1)
        exact_max = int(get_settings().semantic_exact_max if exact_max is None else exact_max)
        rows = None if allowed is None else np.flatnonzero(allowed)
        size = len(self) if rows is None else len(rows)
        if size <= exact_max:
            return self.exact(query, k, rows)
        index = self.ann()
        first = want = max(int(k) * CANDIDATES_PER_HIT, 1000)
        while True:
            _, found = index.search(query[None, :], min(want, len(self)))
            candidates = found[0][found[0] >= 0].astype(np.int64)
            if allowed is not None:
                candidates = candidates[allowed[candidates]]
            if len(candidates) >= k * CANDIDATES_PER_HIT or want >= len(self):
                return self.exact(query, k, candidates)
            if want >= 16 * first:  # the filters keep few of the nearest: compare with every allowed vector
                return self.exact(query, k, rows)
            want *= 4


# ------------------------------------------------------------------------------------ filters


def allowed_posts(
    con: duckdb.DuckDBPyConnection,
    *,
    hashtag: str | None = None,
    since: Any = None,
    until: Any = None,
    author: str | None = None,
    min_views: int | None = None,
) -> set[str] | None:
    """Post ids passing the filters (as the text search reads them); None when there is no filter."""
    from .text import _as_time

    if min_views is not None and int(min_views) < 0:
        raise QueryError(f"--min-views must be 0 or more (got {min_views})", key="err_min_views", min_views=min_views)
    start, end = _as_time(since, "--since", end=False), _as_time(until, "--until", end=True)
    if start and end and start >= end:
        raise QueryError("--since is after --until: swap them", key="err_since_after_until")
    posts_of = tracked_posts_sql(hashtag)  # a hashtag, an @account or a "keyword"
    who = (author or "").strip().lstrip("@").lower() or None
    where, params = [], []
    if posts_of is not None:
        where.append(f"p.post_id IN ({posts_of[0]})")
        params += posts_of[1]
    if who:
        where.append(f"(lower({author_sql()}) = ? OR p.author_id = ?)")
        params += [who, who]
    if start:
        where.append("p.created_at >= ?")
        params.append(start)
    if end:
        where.append("p.created_at < ?")
        params.append(end)
    if min_views is not None:
        where.append("p.views >= ?")
        params.append(int(min_views))
    if not where:
        return None
    sql = f"SELECT p.post_id FROM posts p LEFT JOIN authors a ON a.author_id = p.author_id WHERE {' AND '.join(where)}"
    return {r[0] for r in con.execute(sql, params).fetchall()}


# ------------------------------------------------------------------------------------ queries


@dataclasses.dataclass(frozen=True)
class SemanticHit:
    post_id: str
    kind: str  # the post's best-matching image
    seq: int
    score: float  # cosine similarity of that image with the query, -1..1: a ranking, not a fact
    url: str
    author: str | None
    created_at: dt.datetime | None
    description: str

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["created_at"] = self.created_at.isoformat() if self.created_at else None
        return out


def index_dir(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).workspace_path / "search"


def vectors_for(con: duckdb.DuckDBPyConnection, model: Any, settings: Settings | None = None) -> VectorSet:
    vectors = VectorSet.from_db(con, model.model_id, index_dir=index_dir(settings))
    if not len(vectors):
        images = con.execute("SELECT count(*) FROM media").fetchone()[0]
        if not images:
            raise SearchError("no images to search by meaning: collect covers first (`tiktok-intel collect`), then `tiktok-intel media`")
        raise SearchError(f"none of the {images} images is embedded with {model.model_id} yet: run `tiktok-intel media`")
    return vectors


def coverage(con: duckdb.DuckDBPyConnection, model_id: str) -> tuple[int, int]:
    """(images with a vector of ``model_id``, images) — a new model fills in over several runs."""
    done = con.execute("SELECT count(*) FROM image_embeddings WHERE model = ? AND embedding IS NOT NULL", [model_id]).fetchone()[0]
    return int(done), int(con.execute("SELECT count(*) FROM media").fetchone()[0])


def _rank_posts(
    con: duckdb.DuckDBPyConnection,
    vectors: VectorSet,
    queries: np.ndarray,
    *,
    limit: int,
    allowed: set[str] | None,
    exclude: str | None = None,
    exact_max: int | None = None,
) -> list[SemanticHit]:
    mask = None
    if allowed is not None or exclude is not None:
        keep = allowed if allowed is not None else set(vectors.post_ids.tolist())
        if exclude is not None:
            keep = keep - {exclude}
        mask = np.fromiter((p in keep for p in vectors.post_ids), dtype=bool, count=len(vectors))
    best: dict[str, tuple[float, int]] = {}
    k = int(limit) * 3
    while True:  # images -> posts (a post's best image); widen until `limit` posts or every allowed image is in
        for q in np.atleast_2d(queries):
            rows, scores = vectors.search(q, k, allowed=mask, exact_max=exact_max)
            for row, score in zip(rows.tolist(), scores.tolist()):
                post = vectors.keys[row][0]
                if post not in best or score > best[post][0]:
                    best[post] = (score, row)
        total = len(vectors) if mask is None else int(mask.sum())
        if len(best) >= limit or k >= total:
            break
        k *= 4
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))[: int(limit)]
    if not ranked:
        return []
    ids = [p for p, _ in ranked]
    marks = ", ".join("?" for _ in ids)
    info = {
        r[0]: r[1:]
        for r in con.execute(
            f"SELECT p.post_id, {post_url_sql()} AS url, {author_sql()} AS author, p.created_at, coalesce(p.description, '') "
            f"FROM posts p LEFT JOIN authors a ON a.author_id = p.author_id WHERE p.post_id IN ({marks})",
            ids,
        ).fetchall()
    }
    hits = []
    for post_id, (score, row) in ranked:
        url, author, created, description = info.get(post_id, (f"https://www.tiktok.com/video/{post_id}", None, None, ""))
        _, kind, seq = vectors.keys[row]
        hits.append(SemanticHit(post_id, kind, int(seq), round(float(score), 4), url, author, created, description))
    return hits


def _check_limit(limit: Any) -> int:
    if limit is None or int(limit) < 1:
        raise QueryError(f"--limit must be at least 1 (got {limit})", key="err_limit", limit=limit)
    return int(limit)


def search_meaning(
    con: duckdb.DuckDBPyConnection,
    text: str,
    *,
    hashtag: str | None = None,
    since: Any = None,
    until: Any = None,
    author: str | None = None,
    min_views: int | None = None,
    limit: int = 20,
    model: Any = None,
    vectors: VectorSet | None = None,
    exact_max: int | None = None,
) -> list[SemanticHit]:
    """Posts whose images best match ``text`` (any language the model knows), after the filters, best first."""
    limit = _check_limit(limit)
    if not (text or "").strip():
        raise QueryError(
            '--meaning needs words: describe what the picture shows, e.g. --meaning "brinnande bil"', key="err_meaning_needs_words"
        )
    from . import clip

    model = model if model is not None else clip.load()
    vectors = vectors if vectors is not None else vectors_for(con, model)
    allowed = allowed_posts(con, hashtag=hashtag, since=since, until=until, author=author, min_views=min_views)
    query = model.embed_texts([text])[0]
    return _rank_posts(con, vectors, query, limit=limit, allowed=allowed, exact_max=exact_max)


def _query_vectors(con: duckdb.DuckDBPyConnection, query: Any, model: Any, vectors: VectorSet) -> tuple[np.ndarray, str | None]:
    if isinstance(query, (bytes, bytearray)):
        return model.embed_images([open_image(bytes(query))]), None
    if not isinstance(query, (str, Path)):
        if hasattr(query, "convert"):
            return model.embed_images([query.convert("RGB")]), None
        raise QueryError(f"cannot search by a {type(query).__name__}: give an image file, an image URL or a post id")
    text = str(query).strip()
    if re.match(r"^https?://", text, re.I):
        return model.embed_images([open_image(download(text), name=text.split("?")[0])]), None
    path = Path(text).expanduser()
    if path.exists():
        return model.embed_images([open_image(path)]), None
    if re.fullmatch(r"\d{5,25}", text) or (text and con.execute("SELECT 1 FROM posts WHERE post_id = ?", [text]).fetchone()):
        rows = np.flatnonzero(vectors.post_ids == text)
        if not len(rows):
            if con.execute("SELECT count(*) FROM media WHERE post_id = ?", [text]).fetchone()[0]:
                raise ImageInputError(f"post {text} has images that are not embedded yet: run `tiktok-intel media` first")
            raise ImageInputError(f"post {text} has no downloaded cover or frame: collect its cover first, or search by an image file")
        return vectors.matrix[rows], text
    raise ImageInputError(f"{text}: no such file, and not an http(s) URL or a post id; check the path")


def search_similar(
    con: duckdb.DuckDBPyConnection,
    query: Any,
    *,
    hashtag: str | None = None,
    since: Any = None,
    until: Any = None,
    author: str | None = None,
    min_views: int | None = None,
    limit: int = 20,
    model: Any = None,
    vectors: VectorSet | None = None,
    exact_max: int | None = None,
) -> list[SemanticHit]:
    """Posts whose images show something like ``query`` (an image file, URL, post id, bytes or PIL
    image), not only copies; querying by a post leaves its own images out."""
    limit = _check_limit(limit)
    from . import clip

    model = model if model is not None else clip.load()
    vectors = vectors if vectors is not None else vectors_for(con, model)
    allowed = allowed_posts(con, hashtag=hashtag, since=since, until=until, author=author, min_views=min_views)
    queries, own = _query_vectors(con, query, model, vectors)
    return _rank_posts(con, vectors, queries, limit=limit, allowed=allowed, exclude=own, exact_max=exact_max)


@dataclasses.dataclass(frozen=True)
class FusedHit:
    post_id: str
    score: float  # the reciprocal rank fusion score: sum of 1 / (60 + rank) over the lists the post is in
    text_rank: int | None
    meaning_rank: int | None
    cosine: float | None
    url: str
    author: str | None
    description: str

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def fuse(text_hits: Sequence[Any], meaning_hits: Sequence[SemanticHit], *, limit: int = 20, k: int = RRF_K) -> list[FusedHit]:
    """Words and meaning together: reciprocal rank fusion. Each list gives its rank (1 = best); a
    post's score is the sum of ``1 / (k + rank)`` over the lists it is in (absent: nothing). Scores of
    different kinds (BM25, cosine) are never added: only ranks are, so neither scale dominates."""
    table: dict[str, dict[str, Any]] = {}
    for rank, hit in enumerate(text_hits, start=1):
        entry = table.setdefault(hit.post_id, {"score": 0.0, "hit": hit})
        entry["score"] += 1.0 / (k + rank)
        entry["text_rank"] = rank
    for rank, hit in enumerate(meaning_hits, start=1):
        entry = table.setdefault(hit.post_id, {"score": 0.0, "hit": hit})
        entry["score"] += 1.0 / (k + rank)
        entry["meaning_rank"] = rank
        entry["cosine"] = hit.score
    ranked = sorted(table.items(), key=lambda kv: (-kv[1]["score"], kv[1].get("text_rank") or 10**9, kv[0]))[: int(limit)]
    return [
        FusedHit(
            post_id=post_id,
            score=round(e["score"], 6),
            text_rank=e.get("text_rank"),
            meaning_rank=e.get("meaning_rank"),
            cosine=e.get("cosine"),
            url=e["hit"].url,
            author=e["hit"].author,
            description=e["hit"].description or "",
        )
        for post_id, e in ranked
    ]
