"""Search by image, and near-duplicate groups across accounts.

Every image (cover or key frame) has a 64-bit pHash and dHash. Two images match when both Hamming
distances are at most ``max_distance``; the reported ``distance`` is the larger of the two (pHash
alone calls many plain text-on-colour covers alike; dHash alone is fooled by brightness). The
search is brute force over numpy arrays (XOR, then ``numpy.bitwise_count``): about a millisecond
per query over 1,000,000 hashes, faster than any tree at these radii (see ``docs/search.md``).

Duplicate groups need every near pair, not one query: multi-index hashing (``dupindex``) finds them
without comparing all pairs. The media step matches each new image against the archive
(:func:`match_new_images`, pairs kept in ``image_pairs`` up to :data:`PAIRS_RADIUS`), so
:func:`find_duplicates` reads the pairs; it joins the whole archive itself when images are not
matched yet or a larger radius is asked for.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from .. import clock
from ..conventions import author_sql, post_url_sql
from . import dupindex
from .errors import ImageInputError, QueryError
from .fetch import download, open_image
from .hashing import image_hashes

#: Default match radius (bits of 64) for search, and the tighter one for duplicate groups.
DEFAULT_MAX_DISTANCE = 10
DEFAULT_DUPLICATE_DISTANCE = 8
#: The radius (on both hashes) up to which the media step keeps near pairs in ``image_pairs``.
PAIRS_RADIUS = 10


@dataclasses.dataclass(frozen=True)
class ImageHit:
    post_id: str
    kind: str
    seq: int
    distance: int
    phash_distance: int
    dhash_distance: int
    url: str
    author: str | None
    path: str

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class DuplicatePost:
    post_id: str
    author: str | None
    url: str
    created_at: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class DuplicateGroup:
    posts: tuple[DuplicatePost, ...]  # earliest first: the likely original leads
    accounts: int

    @property
    def size(self) -> int:
        return len(self.posts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "accounts": self.accounts,
            "posts": [{**dataclasses.asdict(p), "created_at": p.created_at.isoformat() if p.created_at else None} for p in self.posts],
        }


_HASHES_SQL = f"""
SELECT h.post_id, h.kind, h.seq, h.phash, h.dhash, m.path,
       {author_sql()} AS author,
       coalesce(p.author_id, 'post:' || h.post_id) AS account,
       {post_url_sql(post_id="h.post_id")} AS url,
       p.created_at
FROM image_hashes h
JOIN media m ON m.post_id = h.post_id AND m.kind = h.kind AND m.seq = h.seq
LEFT JOIN posts p ON p.post_id = h.post_id
LEFT JOIN authors a ON a.author_id = p.author_id
WHERE h.phash IS NOT NULL AND h.dhash IS NOT NULL
ORDER BY h.post_id, h.kind, h.seq
"""


class HashIndex:
    """All image hashes in memory, for repeated queries (a notebook keeps one; the CLI builds one per call)."""

    def __init__(self, phash: np.ndarray, dhash: np.ndarray, meta: list[tuple] | None = None):
        self.phash = np.ascontiguousarray(phash, dtype=np.int64).view(np.uint64)
        self.dhash = np.ascontiguousarray(dhash, dtype=np.int64).view(np.uint64)
        self.meta = meta or []

    @classmethod
    def from_db(cls, con: duckdb.DuckDBPyConnection) -> HashIndex:
        rows = con.execute(_HASHES_SQL).fetchall()
        phash = np.fromiter((r[3] for r in rows), dtype=np.int64, count=len(rows))
        dhash = np.fromiter((r[4] for r in rows), dtype=np.int64, count=len(rows))
        return cls(phash, dhash, rows)

    def __len__(self) -> int:
        return len(self.phash)

    def query(self, phash: int, dhash: int, max_distance: int = DEFAULT_MAX_DISTANCE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Indices of the images within ``max_distance`` on both hashes, best first, with both distances."""
        p = np.bitwise_count(self.phash ^ np.uint64(phash & 0xFFFFFFFFFFFFFFFF))
        candidates = np.flatnonzero(p <= max_distance)
        d = np.bitwise_count(self.dhash[candidates] ^ np.uint64(dhash & 0xFFFFFFFFFFFFFFFF))
        keep = d <= max_distance
        idx, pd, dd = candidates[keep], p[candidates][keep].astype(np.int64), d[keep].astype(np.int64)
        order = np.lexsort((pd + dd, np.maximum(pd, dd)))
        return idx[order], pd[order], dd[order]


def python_loop_baseline(hashes: list[int], query: int, max_distance: int) -> list[int]:
    """The naive baseline the benchmark compares with: a Python loop of XOR and ``int.bit_count``."""
    q = query & 0xFFFFFFFFFFFFFFFF
    return [i for i, h in enumerate(hashes) if ((h & 0xFFFFFFFFFFFFFFFF) ^ q).bit_count() <= max_distance]


def _query_hashes(con: duckdb.DuckDBPyConnection, query: Any) -> tuple[list[tuple[int, int]], str | None]:
    """The hashes to search with, and the post id to leave out of the results (when querying by post)."""
    if isinstance(query, (bytes, bytearray)):
        return [image_hashes(open_image(bytes(query)))], None
    if not isinstance(query, (str, Path)):  # a PIL image
        if hasattr(query, "convert"):
            return [image_hashes(query.convert("RGB"))], None
        raise QueryError(f"cannot search by a {type(query).__name__}: give an image file, an image URL or a post id")
    text = str(query).strip()
    if re.match(r"^https?://", text, re.I):
        return [image_hashes(open_image(download(text), name=text.split("?")[0]))], None
    path = Path(text).expanduser()
    if path.exists():
        return [image_hashes(open_image(path))], None
    if re.fullmatch(r"\d{5,25}", text) or (text and con.execute("SELECT 1 FROM posts WHERE post_id = ?", [text]).fetchone()):
        rows = con.execute(
            "SELECT phash, dhash FROM image_hashes WHERE post_id = ? AND phash IS NOT NULL ORDER BY kind, seq", [text]
        ).fetchall()
        if not rows:
            known = con.execute("SELECT count(*) FROM media WHERE post_id = ?", [text]).fetchone()[0]
            if known:
                raise ImageInputError(f"post {text} has images that are not hashed yet: run `tiktok-intel media` first")
            raise ImageInputError(f"post {text} has no downloaded cover or frame: collect its cover first, or search by an image file")
        return [(int(a), int(b)) for a, b in rows], text
    raise ImageInputError(f"{text}: no such file, and not an http(s) URL or a post id; check the path")


def search_image(
    con: duckdb.DuckDBPyConnection, query: Any, *, max_distance: int = DEFAULT_MAX_DISTANCE, limit: int = 20, index: HashIndex | None = None
) -> list[ImageHit]:
    """Images nearest to ``query`` (a file path, an image URL on an allowed host, a post id, image bytes
    or a PIL image), within ``max_distance`` bits, best first. Querying by a post leaves its own images out."""
    if not 0 <= int(max_distance) <= 32:
        raise QueryError(f"--max-distance must be between 0 and 32 bits (got {max_distance})")
    if int(limit) < 1:
        raise QueryError(f"--limit must be at least 1 (got {limit})")
    queries, own_post = _query_hashes(con, query)
    index = index if index is not None else HashIndex.from_db(con)
    best: dict[int, tuple[int, int, int]] = {}
    for phash, dhash in queries:
        idx, pd, dd = index.query(phash, dhash, int(max_distance))
        for i, a, b in zip(idx.tolist(), pd.tolist(), dd.tolist()):
            key = (max(a, b), a + b, a)
            if i not in best or key < best[i]:
                best[i] = key
    hits = []
    for i, (distance, _, a) in sorted(best.items(), key=lambda kv: (kv[1], kv[0])):
        post_id, kind, seq, _p, _d, path, author, _account, url, _created = index.meta[i]
        if post_id == own_post:
            continue
        hits.append(
            ImageHit(
                post_id=post_id,
                kind=kind,
                seq=seq,
                distance=distance,
                phash_distance=a,
                dhash_distance=best[i][1] - a,
                url=url,
                author=author,
                path=path,
            )
        )
        if len(hits) >= int(limit):
            break
    return hits


def _pairs(phash: np.ndarray, dhash: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs i < j within ``max_distance`` on both hashes (multi-index hashing: ``dupindex``)."""
    return dupindex.near_pairs(phash, dhash, max_distance)


_MATCH_SQL = """
SELECT h.post_id, h.kind, h.seq, h.media_sha256, h.phash, h.dhash,
       m.post_id IS NULL OR m.media_sha256 IS DISTINCT FROM h.media_sha256 OR m.radius <> ? AS new
FROM image_hashes h
LEFT JOIN image_pairs_matched m ON m.post_id = h.post_id AND m.kind = h.kind AND m.seq = h.seq
WHERE h.phash IS NOT NULL AND h.dhash IS NOT NULL
ORDER BY h.post_id, h.kind, h.seq
"""


def match_new_images(con: duckdb.DuckDBPyConnection, *, radius: int = PAIRS_RADIUS) -> int:
    """Match every image hashed since the last call (or hashed again) against the whole archive and
    keep its near pairs in ``image_pairs``: the media step's share of duplicate detection. Returns
    the number of images matched (0, and cheap, when nothing is new)."""
    rows = con.execute(_MATCH_SQL, [int(radius)]).fetchall()
    new = np.fromiter((i for i, r in enumerate(rows) if r[6]), dtype=np.int64)
    gone = con.execute(
        """SELECT count(*) FROM image_pairs_matched m WHERE NOT EXISTS (SELECT 1 FROM image_hashes h WHERE h.post_id = m.post_id
           AND h.kind = m.kind AND h.seq = m.seq AND h.phash IS NOT NULL AND h.media_sha256 = m.media_sha256)"""
    ).fetchone()[0]
    if not len(new) and not gone:
        return 0
    phash = np.fromiter((r[4] for r in rows), dtype=np.int64, count=len(rows))
    dhash = np.fromiter((r[5] for r in rows), dtype=np.int64, count=len(rows))
    i, j = dupindex.pairs_against(phash, dhash, new, int(radius))
    pd = np.bitwise_count(phash[i].view(np.uint64) ^ phash[j].view(np.uint64)).astype(np.int64)
    dd = np.bitwise_count(dhash[i].view(np.uint64) ^ dhash[j].view(np.uint64)).astype(np.int64)
    now = clock.now()
    con.execute("BEGIN TRANSACTION")
    try:
        # pairs of images that are new, re-hashed or gone are found again (or dropped)
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _stale AS SELECT post_id, kind, seq FROM image_pairs_matched m
                       WHERE NOT EXISTS (SELECT 1 FROM image_hashes h WHERE h.post_id = m.post_id AND h.kind = m.kind AND h.seq = m.seq
                                         AND h.phash IS NOT NULL AND h.media_sha256 = m.media_sha256 AND m.radius = ?)""",
            [int(radius)],
        )
        if len(new):
            con.execute(
                "INSERT INTO _stale SELECT unnest(?), unnest(?), unnest(?)",
                [[rows[k][0] for k in new.tolist()], [rows[k][1] for k in new.tolist()], [rows[k][2] for k in new.tolist()]],
            )
        for side in ("a", "b"):
            con.execute(f"""DELETE FROM image_pairs USING _stale s
                            WHERE image_pairs.post_id_{side} = s.post_id AND image_pairs.kind_{side} = s.kind AND image_pairs.seq_{side} = s.seq""")
        con.execute("""DELETE FROM image_pairs_matched USING _stale s WHERE image_pairs_matched.post_id = s.post_id
                       AND image_pairs_matched.kind = s.kind AND image_pairs_matched.seq = s.seq""")
        if len(i):
            a, b = [rows[k] for k in i.tolist()], [rows[k] for k in j.tolist()]
            con.execute(
                """INSERT INTO image_pairs SELECT unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), ?""",
                [
                    [r[0] for r in a],
                    [r[1] for r in a],
                    [r[2] for r in a],
                    [r[0] for r in b],
                    [r[1] for r in b],
                    [r[2] for r in b],
                    pd.tolist(),
                    dd.tolist(),
                    now,
                ],
            )
        if len(new):
            picked = [rows[k] for k in new.tolist()]
            con.execute(
                "INSERT INTO image_pairs_matched SELECT unnest(?), unnest(?), unnest(?), unnest(?), ?, ?",
                [[r[0] for r in picked], [r[1] for r in picked], [r[2] for r in picked], [r[3] for r in picked], int(radius), now],
            )
        con.execute("DROP TABLE _stale")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(new)


def _stored_pairs(con: duckdb.DuckDBPyConnection, index: HashIndex, max_distance: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The kept pairs within ``max_distance``, as indices into ``index``; None when they cannot be trusted
    (an image not matched yet, or a radius larger than the kept one)."""
    if max_distance > PAIRS_RADIUS:
        return None
    unmatched = con.execute(
        """SELECT 1 FROM image_hashes h
           LEFT JOIN image_pairs_matched m ON m.post_id = h.post_id AND m.kind = h.kind AND m.seq = h.seq
           WHERE h.phash IS NOT NULL AND h.dhash IS NOT NULL
             AND (m.post_id IS NULL OR m.media_sha256 IS DISTINCT FROM h.media_sha256 OR m.radius <> ?) LIMIT 1""",
        [PAIRS_RADIUS],
    ).fetchall()
    if unmatched:
        return None
    where = {(m[0], m[1], m[2]): k for k, m in enumerate(index.meta)}
    rows = con.execute(
        "SELECT post_id_a, kind_a, seq_a, post_id_b, kind_b, seq_b FROM image_pairs WHERE phash_distance <= ? AND dhash_distance <= ?",
        [max_distance, max_distance],
    ).fetchall()
    pairs = [(where.get(r[:3]), where.get(r[3:])) for r in rows]
    pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
    return np.array([a for a, _ in pairs], dtype=np.int64), np.array([b for _, b in pairs], dtype=np.int64)


def find_duplicates(
    con: duckdb.DuckDBPyConnection,
    *,
    max_distance: int = DEFAULT_DUPLICATE_DISTANCE,
    min_accounts: int = 2,
    index: HashIndex | None = None,
    stored: bool = True,
) -> list[DuplicateGroup]:
    """Groups of posts whose images match (transitively) and that come from at least ``min_accounts``
    different accounts: re-uploads and coordinated posting. Largest groups first.

    The pairs the media step kept (``image_pairs``) when every image is matched and ``max_distance``
    is within :data:`PAIRS_RADIUS` (``stored=False``: never); else the whole archive is joined with
    multi-index hashing. Both give the groups brute force gives.
    """
    if not 0 <= int(max_distance) <= 32:
        raise QueryError(f"--max-distance must be between 0 and 32 bits (got {max_distance})")
    index = index if index is not None else HashIndex.from_db(con)
    meta = index.meta
    if len(index) < 2:
        return []
    # one node per post: images of the same post are joined to it
    posts: dict[str, int] = {}
    node = np.fromiter((posts.setdefault(m[0], len(posts)) for m in meta), dtype=np.int64, count=len(meta))
    pairs = _stored_pairs(con, index, int(max_distance)) if stored else None
    i, j = pairs if pairs is not None else _pairs(index.phash, index.dhash, int(max_distance))
    label = dupindex.components(len(posts), node[i], node[j])
    info: dict[str, tuple] = {}
    for m in meta:
        info.setdefault(m[0], m)
    members: dict[int, list[str]] = {}
    for post_id, n in posts.items():
        members.setdefault(int(label[n]), []).append(post_id)
    groups = []
    for ids in members.values():
        if len(ids) < 2:
            continue
        accounts = len({info[p][7] for p in ids})
        if accounts < int(min_accounts):
            continue
        entries = sorted(
            (DuplicatePost(post_id=p, author=info[p][6], url=info[p][8], created_at=info[p][9]) for p in ids),
            key=lambda e: (e.created_at or dt.datetime.max, e.post_id),
        )
        groups.append(DuplicateGroup(posts=tuple(entries), accounts=accounts))
    groups.sort(key=lambda g: (-g.size, -g.accounts, g.posts[0].post_id))
    return groups
