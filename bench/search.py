"""Search benchmarks: printed figures, not tests.

    .venv/bin/python bench/search.py              # full size: 1,000,000 posts and 1,000,000 image hashes
    .venv/bin/python bench/search.py --scale 0.01 # 10,000 of each: seconds

Figures: text query p50 / worst (tantivy, through ``search_text``) against a DuckDB ``ILIKE`` scan;
image query p50 (numpy XOR + bitwise_count, through ``HashIndex``) against a Python loop; index
build time; refresh time when nothing changed and after 1,000 posts changed; OCR and hashing
images per second. ``--fts`` adds DuckDB's fts extension (BM25, Swedish stemmer) for comparison.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from common import Figure, print_table  # noqa: E402

from tiktok_intel import settings as settings_module  # noqa: E402
from tiktok_intel.store import open_db  # noqa: E402

WORDS = (
    "valet regeringen sverige stockholm göteborg malmö skola klimatet fika dans musik träning mat resa "
    "sommar vinter nyheter politik ekonomi fotboll hockey melodifestivalen kärlek vänner familj hund katt "
    "kaffe jobb pengar hälsa hår smink mode humor tips recept kanelbullar midsommar jul påsk natur skog "
    "hav bil tåg buss cykel lärare elev student kris krig fred val röstade debatt partiledare statsminister"
).split()


def _vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    letters = "abcdefghijklmnoprstuvåäö"
    made = {"".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(size)}
    return WORDS + sorted(made - set(WORDS))


def populate(con, n: int, seed: int = 7) -> None:
    """``n`` synthetic posts (Zipf-like word frequencies: the commonest word is in about 70 % of posts),
    50,000 authors, two hashtags a post."""
    rng = random.Random(seed)
    vocab = _vocabulary(rng)
    con.execute("SET VARIABLE vocab = ?", [vocab])
    authors = min(50_000, max(10, n // 20))
    con.execute(
        """INSERT INTO authors (author_id, unique_id, nickname, first_seen_at, last_seen_at)
                   SELECT 'a' || i, 'user' || i, 'Namn ' || i, TIMESTAMP '2026-11-01', TIMESTAMP '2026-11-01' FROM range(?) t(i)""",
        [authors],
    )
    con.execute(
        """
        INSERT INTO posts (post_id, author_id, author_unique_id, description, created_at, views, first_seen_at, last_seen_at)
        SELECT (7000000000000000000 + i)::VARCHAR, 'a' || (i % ?), 'user' || (i % ?),
               array_to_string(list_transform(range(6 + (hash(i) % 12)::INT),
                   k -> getvariable('vocab')[1 + floor(pow(random(), 4) * len(getvariable('vocab')))::INT]), ' '),
               TIMESTAMP '2026-01-01' + to_seconds((hash(i * 7) % 31536000)::BIGINT),
               (hash(i * 3) % 2000000)::BIGINT, TIMESTAMP '2026-11-01', TIMESTAMP '2026-11-01'
        FROM range(?) t(i)""",
        [authors, authors, n],
    )
    con.execute(
        """INSERT INTO post_hashtags  -- no key constraint to IGNORE on: DISTINCT drops a repeated tag
                   SELECT DISTINCT (7000000000000000000 + i)::VARCHAR, getvariable('vocab')[1 + (hash(i * 11 + k) % 200)::INT]
                   FROM range(?) t(i), range(2) s(k)""",
        [n],
    )


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - start) * 1000


def tantivy_alone(con) -> float:
    """Seconds for tantivy itself to index every description (Swedish stemmer, 4 writer threads, in memory):
    the floor the full build is compared with, measured in this run."""
    import tantivy

    from tiktok_intel.search.text import TOKENIZER, _register

    descriptions = [r[0] for r in con.execute("SELECT coalesce(description, '') FROM posts").fetchall()]
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("description", stored=False, tokenizer_name=TOKENIZER)
    index = tantivy.Index(sb.build())
    _register(index)
    start = time.perf_counter()
    writer = index.writer(heap_size=400_000_000, num_threads=4)
    for text in descriptions:
        doc = tantivy.Document()
        doc.add_text("description", text)
        writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()
    return time.perf_counter() - start


def bench_text(con, n: int, rows: list, fts: bool) -> None:
    from tiktok_intel.search import refresh_index, search_text
    from tiktok_intel.search.text import ilike_baseline

    print(f"text: {n:,} posts ...", file=sys.stderr)
    start = time.perf_counter()
    refresh_index(con, rebuild=True)
    build = time.perf_counter() - start
    rows.append(
        Figure(
            f"text index build, {n:,} posts",
            build,
            "s",
            tantivy_alone(con),
            "<= 10 s at 1,000,000",
            "baseline: tantivy alone, descriptions",
        )
    )
    noop = [timed(refresh_index, con) for _ in range(5)]
    rows.append(Figure("index refresh, nothing changed", statistics.median(noop), "ms"))
    con.execute(
        "UPDATE posts SET views = views + 1, last_seen_at = TIMESTAMP '2026-11-02' WHERE post_id IN "
        "(SELECT post_id FROM posts USING SAMPLE 1000 ROWS)"
    )
    rows.append(
        Figure("index refresh, 1,000 posts changed", timed(refresh_index, con), "ms", build * 1000, "< 1 s", "baseline: the full build")
    )

    queries = [
        "valet",
        "sverige",
        "regeringen",
        "klimatet skola",
        "röstade",
        "melodifestivalen",
        "hund katt",
        "kanelbullar",
        "statsminister debatt",
        "kärlek",
        "midsommar",
        "stockholm malmö",
        "lärare",
        '"partiledare statsminister"',
        "fika",
    ]
    filtered = [
        ("valet", {"min_views": 1_000_000}),
        ("sverige", {"since": "2026-06-01", "until": "2026-06-30"}),
        ("skola", {"hashtag": WORDS[3]}),
        ("klimatet", {"author": "user42"}),
    ]
    for q in queries[:3]:  # warm up
        search_text(con, q, refresh=False)
    times = [timed(search_text, con, q, refresh=False, limit=20) for _ in range(3) for q in queries]
    times_f = [timed(search_text, con, q, refresh=False, limit=20, **kw) for _ in range(3) for q, kw in filtered]
    base = [timed(ilike_baseline, con, q, 20) for q in queries[:8]]
    counts = [con.execute("SELECT count(*) FROM posts WHERE description ILIKE ?", [f"%{q}%"]).fetchone()[0] for q in ("valet", "sverige")]
    base_count = [
        timed(lambda q: con.execute("SELECT count(*) FROM posts WHERE description ILIKE ?", [f"%{q}%"]).fetchall(), q)
        for q in queries[:8]
        if '"' not in q
    ]
    p50 = statistics.median(times)
    rows.append(
        Figure(
            "text query p50 (tantivy, BM25, top 20)",
            p50,
            "ms",
            statistics.median(base_count),
            "< 50 ms",
            "baseline: DuckDB ILIKE count, unranked",
        )
    )
    rows.append(Figure("text query worst", max(times), "ms", max(base_count), note="baseline: ILIKE count, worst"))
    rows.append(Figure("text query p50, with a filter", statistics.median(times_f), "ms", target="< 50 ms"))
    rows.append(Figure("ILIKE first 20 matches, unranked", statistics.median(base), "ms", note="a baseline"))
    print(f"  'valet' in {counts[0] / n:.0%} of posts, 'sverige' in {counts[1] / n:.0%}", file=sys.stderr)
    if fts:
        bench_fts(con, queries, rows, p50)


def bench_fts(con, queries: list[str], rows: list, p50: float) -> None:
    import glob
    import site

    paths = [p for d in site.getsitepackages() for p in glob.glob(f"{d}/duckdb_extension_fts/extensions/*/fts.duckdb_extension")]
    if not paths:
        rows.append(Figure("DuckDB fts query p50", None, "ms", note="duckdb fts extension not installed"))
        return
    con.execute(f"LOAD '{paths[0]}'")
    start = time.perf_counter()
    con.execute("CREATE OR REPLACE TABLE bench_fts_posts AS SELECT post_id, description FROM posts")
    con.execute("PRAGMA create_fts_index('bench_fts_posts', 'post_id', 'description', stemmer='swedish', overwrite=1)")
    build = time.perf_counter() - start
    sql = (
        "SELECT post_id, score FROM (SELECT post_id, fts_main_bench_fts_posts.match_bm25(post_id, ?, conjunctive := 1) AS score "
        "FROM bench_fts_posts) WHERE score IS NOT NULL ORDER BY score DESC LIMIT 20"
    )
    plain = [q for q in queries if '"' not in q]
    times = [timed(lambda q: con.execute(sql, [q]).fetchall(), q) for q in plain]
    rows.append(
        Figure("DuckDB fts query p50 (match_bm25, Swedish stemmer)", statistics.median(times), "ms", p50, note="baseline: tantivy p50")
    )
    rows.append(Figure("DuckDB fts query worst", max(times), "ms"))
    rows.append(Figure("DuckDB fts index build", build, "s"))
    con.execute("PRAGMA drop_fts_index('bench_fts_posts')")
    con.execute("DROP TABLE bench_fts_posts")


def bench_images(n: int, rows: list) -> None:
    from tiktok_intel.search.images import HashIndex, python_loop_baseline

    print(f"images: {n:,} hashes ...", file=sys.stderr)
    rng = np.random.default_rng(3)
    phash = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, size=n, dtype=np.int64)
    dhash = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, size=n, dtype=np.int64)
    queries = rng.choice(n, size=50, replace=False)
    for k, q in enumerate(queries[:10]):  # plant near-duplicates 2 bits away
        phash[(q + 1 + k) % n] = phash[q] ^ np.int64(0b101)
        dhash[(q + 1 + k) % n] = dhash[q] ^ np.int64(0b11)
    index = HashIndex(phash, dhash)
    times = [timed(index.query, int(phash[q]), int(dhash[q]), 10) for q in queries]
    found = [len(index.query(int(phash[q]), int(dhash[q]), 10)[0]) for q in queries[:10]]
    assert all(f >= 2 for f in found), found
    as_list = phash.tolist()
    base = [timed(python_loop_baseline, as_list, int(phash[q]), 10) for q in queries[:3]]
    p50 = statistics.median(times)
    rows.append(
        Figure(
            f"image query p50, {n:,} hashes (numpy XOR + bit count)",
            p50,
            "ms",
            statistics.median(base),
            "< 50 ms",
            "baseline: Python loop over the hashes",
        )
    )
    rows.append(Figure("image query worst", max(times), "ms"))
    bench_duplicates(phash, dhash, n, rows)


def _faiss_pairs(phash: np.ndarray, dhash: np.ndarray, radius: int):
    """faiss's binary flat index, range search in batches (pHash), then the dHash check: the anchor the issue names."""
    import faiss

    codes = np.ascontiguousarray(phash).view(np.uint8).reshape(-1, 8)
    index = faiss.IndexBinaryFlat(64)
    index.add(codes)
    left, right = [], []
    for start in range(0, len(codes), 20_000):
        lims, _, ids = index.range_search(codes[start : start + 20_000], radius + 1)  # strictly below
        rows_ = np.repeat(np.arange(start, start + len(lims) - 1), np.diff(lims).astype(np.int64))
        ids = ids.astype(np.int64)
        keep = ids > rows_
        i, j = rows_[keep], ids[keep]
        close = np.bitwise_count(dhash[i].view(np.uint64) ^ dhash[j].view(np.uint64)) <= radius
        left.append(i[close])
        right.append(j[close])
    return np.concatenate(left), np.concatenate(right)


def bench_duplicates(phash: np.ndarray, dhash: np.ndarray, n: int, rows: list) -> None:
    """Near-duplicate pairs at radius 10 on both hashes: multi-index hashing against brute force (all pairs,
    measured on a sample in the same run and scaled by n²) and faiss's binary index when installed."""
    from tiktok_intel.search import dupindex

    radius = 10
    small = min(n, 20_000)
    start = time.perf_counter()
    brute = dupindex.brute_pairs(phash[:small], dhash[:small], radius)
    brute_small = time.perf_counter() - start
    start = time.perf_counter()
    mih = dupindex.near_pairs(phash[:small], dhash[:small], radius)
    mih_small = time.perf_counter() - start
    assert set(zip(*map(np.ndarray.tolist, brute))) == set(zip(*map(np.ndarray.tolist, mih))), "index and brute force differ"
    rows.append(
        Figure(f"duplicate pairs, {small:,} images, multi-index hashing", mih_small, "s", brute_small, note="baseline: brute force")
    )
    start = time.perf_counter()
    pairs = dupindex.near_pairs(phash, dhash, radius)
    mih_n = time.perf_counter() - start
    brute_n = brute_small * (n / small) ** 2
    scheme = dupindex.choose_scheme(n, radius)
    rows.append(
        Figure(
            f"duplicate pairs, {n:,} images, multi-index hashing",
            mih_n,
            "s",
            brute_n,
            "<= 60 s at 1,000,000",
            f"baseline: brute force x (n/{small:,})²; {scheme.tables(radius)} tables; {len(pairs[0]):,} pairs",
        )
    )
    archive = 10 * n  # the archive target: 10,000,000 images at scale 1 (random hashes, the same pairs planted)
    rng = np.random.default_rng(11)
    big_p = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, size=archive, dtype=np.int64)
    big_d = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, size=archive, dtype=np.int64)
    big_p[:n], big_d[:n] = phash, dhash
    start = time.perf_counter()
    big = dupindex.near_pairs(big_p, big_d, radius)
    mih_archive = time.perf_counter() - start
    del big_p, big_d
    assert len(big[0]) >= len(pairs[0]), "the archive lost pairs of its first n images"
    scheme = dupindex.choose_scheme(archive, radius)
    rows.append(
        Figure(
            f"duplicate pairs, {archive:,} images, multi-index hashing",
            mih_archive,
            "s",
            brute_small * (archive / small) ** 2,
            "<= 900 s at 10,000,000",
            f"baseline: brute force x (n/{small:,})²; {scheme.tables(radius)} tables; {len(big[0]):,} pairs",
        )
    )
    try:
        import faiss  # noqa: F401
    except ImportError:
        rows.append(Figure("duplicate pairs, faiss binary flat", None, "s", note="faiss-cpu not installed"))
        return
    start = time.perf_counter()
    found = _faiss_pairs(phash[:small], dhash[:small], radius)
    faiss_small = time.perf_counter() - start
    assert len(found[0]) == len(brute[0]), "faiss and brute force differ"
    rows.append(
        Figure(
            f"duplicate pairs, faiss binary flat, {n:,} images (from {small:,})",
            faiss_small * (n / small) ** 2,
            "s",
            mih_n,
            note="faiss range search is all pairs: scaled by n²; baseline: multi-index hashing",
        )
    )


def bench_media(con, workspace: Path, images: int, rows: list) -> None:
    import hashlib

    from tiktok_intel.search import check_tesseract, hash_media, ocr_media
    from tiktok_intel.search.samples import make_cover

    print(f"media: {images} covers ...", file=sys.stderr)
    media = workspace / "media" / "covers"
    media.mkdir(parents=True, exist_ok=True)
    words = ["Valet 2026 #svtnyheter", "Fika på Södermalm", "Skolstrejk för klimatet", "Nyheter från Göteborg"]
    for i in range(images):
        path = media / f"{i}.jpg"
        make_cover(i, words[i % len(words)]).save(path, quality=88)
        data = path.read_bytes()
        con.execute(
            "INSERT INTO media (post_id, kind, seq, path, sha256, fetched_at) VALUES (?, 'cover', 0, ?, ?, now()::TIMESTAMP)",
            [str(7000000000000000000 + i), f"covers/{i}.jpg", hashlib.sha256(data).hexdigest()],
        )
    start = time.perf_counter()
    hash_media(con)
    rate = images / (time.perf_counter() - start)
    rows.append(Figure("hashing, pHash + dHash, 540x960 JPEG", rate, "images/s"))
    reason = check_tesseract()
    if reason:
        rows.append(Figure("OCR", None, "images/s", note=reason[:60]))
        return
    start = time.perf_counter()
    result = ocr_media(con)
    elapsed = time.perf_counter() - start
    rows.append(Figure("OCR", result.read / elapsed, "images/s", note=f"{os.cpu_count()} Tesseract processes, OMP_THREAD_LIMIT=1"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 1,000,000 posts and hashes (default 1)")
    parser.add_argument("--ocr-images", type=int, default=None, help="covers to OCR (default 40 x scale, at least 8)")
    parser.add_argument("--fts", action="store_true", help="also measure DuckDB's fts extension")
    args = parser.parse_args(argv)
    n = max(1_000, int(1_000_000 * args.scale))
    images = args.ocr_images or max(8, int(40 * min(1.0, args.scale * 10)))
    os.environ.setdefault("TIKTOK_INTEL_PROGRESS", "0")
    rows: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        workspace = Path(tmp) / "data"
        settings_module.configure(settings_module.load_settings(environ={}, dotenv=None), workspace=workspace)
        con = open_db(workspace / "tiktok.duckdb")
        try:
            start = time.perf_counter()
            populate(con, n)
            print(f"  {n:,} posts generated in {time.perf_counter() - start:.1f} s", file=sys.stderr)
            bench_text(con, n, rows, args.fts)
            bench_images(n, rows)
            bench_media(con, workspace, images, rows)
        finally:
            con.close()
    print_table(f"search: {n:,} posts and image hashes", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
