"""Near-duplicate pairs by multi-index hashing equal brute force; the media step keeps them incrementally."""

from __future__ import annotations

import numpy as np
import pytest
from test_search_images import add_image, gallery  # noqa: F401 - the fixture
from test_search_text import add_posts

from tiktok_intel.search import dupindex, find_duplicates, hash_media, process_media
from tiktok_intel.search.images import match_new_images
from tiktok_intel.search.samples import make_cover, near_duplicate


def _flip(rng, value: int, count: int, spread: int | None) -> int:
    """``value`` with ``count`` bits flipped: at random, or one in each of ``spread`` even slices (the
    placement that defeats a pigeonhole with too few chunks)."""
    if spread:
        bits = {(c * 64 // spread + int(rng.integers(0, 64 // spread))) % 64 for c in range(count)}
    else:
        bits = {int(b) for b in rng.choice(64, size=count, replace=False)}
    mask = sum(1 << b for b in bits)
    return int(np.uint64(value & (2**64 - 1)) ^ np.uint64(mask))


def planted(n: int, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Random hashes, with chains and clusters of near-duplicates planted at 0-12 bits (on either hash),
    many exactly at the radius with the differing bits spread over the whole hash."""
    rng = np.random.default_rng(seed)
    ph = rng.integers(0, 2**64, size=n, dtype=np.uint64)
    dh = rng.integers(0, 2**64, size=n, dtype=np.uint64)
    k = 0
    while k < n - 4:
        size = int(rng.integers(2, 5))
        for m in range(1, size):  # a chain: each a few bits from the previous one
            spread = int(rng.choice([0, 11, 12, 13, 16]))
            ph[k + m] = _flip(rng, int(ph[k + m - 1]), int(rng.integers(0, 13)), spread)
            dh[k + m] = _flip(rng, int(dh[k + m - 1]), int(rng.choice([0, 3, 9, 10, 10, 11])), spread)
        k += size + int(rng.integers(0, 3))
    return ph.view(np.int64), dh.view(np.int64)


def _set(pairs) -> set[tuple[int, int]]:
    return set(zip(pairs[0].tolist(), pairs[1].tolist()))


@pytest.mark.parametrize("radius", [10, 8, 3, 0])
def test_every_scheme_finds_exactly_the_pairs_brute_force_finds(radius):
    ph, dh = planted(3_000)
    truth = _set(dupindex.brute_pairs(ph, dh, radius))
    assert len(truth) > (100 if radius else 10)  # the planted set holds pairs at this radius
    for p, d in [(0, 0), (1, 0), (2, 1), (3, 3), (6, 5)]:
        found = dupindex.near_pairs(ph, dh, radius, scheme=dupindex.Scheme(p, d))
        assert _set(found) == truth, (p, d)
    assert _set(dupindex.near_pairs(ph, dh, radius)) == truth  # the chosen scheme


def test_an_image_reposted_hundreds_of_times_gives_every_pair_of_its_copies():
    """Copies of one image make runs of equal keys far longer than random ones (compared in blocks)."""
    ph, dh = planted(2_000, seed=3)
    rng = np.random.default_rng(4)
    for k in range(300, 700):  # 400 copies, each 0-4 bits off the first on either hash
        ph[k] = np.int64(np.uint64(_flip(rng, int(ph[300]), int(rng.integers(0, 5)), 0)).view(np.int64))
        dh[k] = np.int64(np.uint64(_flip(rng, int(dh[300]), int(rng.integers(0, 5)), 0)).view(np.int64))
    truth = _set(dupindex.brute_pairs(ph, dh, 10))
    assert len(truth) > 400 * 399 // 2
    for scheme in [dupindex.Scheme(0, 0), dupindex.Scheme(4, 4)]:
        assert _set(dupindex.near_pairs(ph, dh, 10, scheme=scheme)) == truth, scheme


def test_keys_computed_table_by_table_when_keeping_them_would_take_too_much_memory(monkeypatch):
    ph, dh = planted(3_000, seed=8)
    truth = _set(dupindex.brute_pairs(ph, dh, 10))
    monkeypatch.setattr(dupindex, "_KEEP_KEYS_BYTES", 0)  # as for 10,000,000 images
    assert _set(dupindex.near_pairs(ph, dh, 10, scheme=dupindex.Scheme(3, 3))) == truth


def test_pairs_within_the_radius_on_one_hash_only_are_not_pairs():
    ph = np.array([0, 0b1111, 0], dtype=np.int64)
    dh = np.array([0, 0, (1 << 11) - 1], dtype=np.int64)  # third: pHash equal, dHash 11 bits away
    assert _set(dupindex.near_pairs(ph, dh, 10)) == {(0, 1)}


def test_new_images_against_the_archive_equal_the_whole_join():
    ph, dh = planted(2_000, seed=9)
    truth = _set(dupindex.brute_pairs(ph, dh, 10))
    new = np.arange(1_500, 2_000)
    expected = {(i, j) for i, j in truth if i >= 1_500 or j >= 1_500}
    assert _set(dupindex.pairs_against(ph, dh, new, 10)) == expected  # many new: the tables
    few = np.array([1_990, 1_991, 1_995])
    assert _set(dupindex.pairs_against(ph, dh, few, 10)) == {(i, j) for i, j in truth if i in few or j in few}  # brute, per image


def test_components_join_chains():
    labels = dupindex.components(6, np.array([0, 3, 4]), np.array([1, 4, 5]))
    assert labels.tolist() == [0, 0, 2, 3, 3, 3]


def test_the_media_step_keeps_pairs_and_groups_read_them(con, workspace, gallery):  # noqa: F811
    assert match_new_images(con) == 11  # every hashed image, once
    assert match_new_images(con) == 0  # nothing new: nothing done
    kept = con.execute("SELECT count(*) FROM image_pairs").fetchone()[0]
    assert kept >= 5
    computed = find_duplicates(con, stored=False)
    assert find_duplicates(con) == computed and [g.size for g in computed] == [5, 2]
    # a new re-upload arrives: only it is matched, and it joins the first group
    add_posts(con, [{"post_id": "12", "author": "kim"}])
    add_image(con, workspace, "12", near_duplicate(gallery, "jpeg"))
    process_media(con, keyframes=False)
    assert con.execute("SELECT count(*) FROM image_pairs_matched").fetchone()[0] == 12
    groups = find_duplicates(con)
    assert groups == find_duplicates(con, stored=False)
    assert [g.size for g in groups] == [6, 2]
    # an image replaced by an unrelated one leaves its pairs behind
    add_image(con, workspace, "11", make_cover(4242, "Något annat"))
    hash_media(con)
    assert find_duplicates(con) == find_duplicates(con, stored=False)  # not matched yet: joined on demand
    match_new_images(con)
    assert [g.size for g in find_duplicates(con)] == [6]
    # a radius beyond the kept one is joined on demand
    assert find_duplicates(con, max_distance=14) == find_duplicates(con, max_distance=14, stored=False)
