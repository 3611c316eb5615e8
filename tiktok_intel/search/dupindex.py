"""Near-duplicate pairs among millions of images without comparing every pair: multi-index hashing.

Two images are near-duplicates when their pHashes AND their dHashes are each at most ``r`` bits
apart. Brute force compares all n²/2 pairs (hours at 1,000,000 images). Here the pigeonhole
principle picks the candidates, and only the candidates are verified:

* split a 64-bit hash into ``r + 1`` chunks: ``r`` differing bits leave at least one chunk equal;
  split it into ``r + 1 + g`` chunks laid out in ``g`` groups: at least ``g + 1`` chunks are
  equal, so two of them fall in one group, and the *pairs of chunks within a group* cover every
  near-duplicate pair with a longer key (fewer false candidates per table);
* a near-duplicate pair agrees on one pHash signature AND on one dHash signature, so each table is
  keyed by (a pHash signature, a dHash signature): every pair within ``r`` on both shares the key
  of at least one table. That is exact, not approximate: the groups equal brute force.

Each table is one radix sort of a 16-bit key (bits are dropped from a longer key: dropping bits of
an exact-match key never loses a pair, it only adds candidates), then the runs of equal keys are
walked with numpy (XOR, ``bitwise_count``) in a handful of vectorised passes per table.
:func:`near_pairs` is the whole-archive join, :func:`pairs_against` matches a few new images
against the archive (the media step), :func:`components` turns pairs into groups.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import itertools
from collections.abc import Iterator

import numpy as np

#: Threads verifying tables at once (the machine's cores: 2 here).
THREADS = 2


@dataclasses.dataclass(frozen=True)
class Scheme:
    """How each hash is split: ``groups`` 0 means ``r + 1`` single chunks; ``g`` > 0 means
    ``r + 1 + g`` chunks in ``g`` groups, signatures = pairs of chunks within a group."""

    p_groups: int
    d_groups: int

    def tables(self, radius: int) -> int:
        return len(_signatures(radius, self.p_groups)) * len(_signatures(radius, self.d_groups))


def _chunks(count: int) -> list[np.uint64]:
    """``count`` contiguous bit masks covering the 64 bits, as even as can be."""
    sizes = [64 // count + (1 if i < 64 % count else 0) for i in range(count)]
    masks, start = [], 0
    for size in sizes:
        masks.append(np.uint64(((1 << size) - 1) << start))
        start += size
    return masks


def _signatures(radius: int, groups: int) -> list[np.uint64]:
    """Bit masks such that two hashes within ``radius`` bits agree exactly on at least one of them."""
    if groups <= 0:
        return _chunks(radius + 1)
    masks = _chunks(radius + 1 + groups)
    members = [masks[i::groups] for i in range(groups)]  # g groups, chunks dealt round-robin: g + 1 equal chunks put two in one
    out = []
    for group in members:
        for a, b in itertools.combinations(group, 2):
            out.append(a | b)
    return out


def _bits(radius: int, groups: int) -> float:
    return 64 * (2 if groups else 1) / (radius + 1 + groups)


#: Per-table cost: sorting and walking the n keys, and verifying the candidates (seconds per item,
#: measured here; only their ratio matters for the choice).
_SORT_COST, _CANDIDATE_COST = 60e-9, 15e-9


def choose_scheme(n: int, radius: int) -> Scheme:
    """The scheme with the lowest estimated cost for ``n`` hashes: a sort per table against the
    candidates (random hashes: n²/2 per table over 2^key bits)."""
    best = None
    for p in range(0, 7):
        for d in range(0, p + 1):
            bits = min(32, _bits(radius, p) + _bits(radius, d))
            tables = Scheme(p, d).tables(radius)
            cost = tables * (n * _SORT_COST + n * n / 2 / 2**bits * _CANDIDATE_COST)
            if best is None or cost < best[0]:
                best = (cost, Scheme(p, d))
    return best[1]


def _key(values: np.ndarray, mask: np.uint64) -> np.ndarray:
    """The bits of ``values`` under ``mask``, packed to the low end (``pext``), as uint64."""
    out = np.zeros(len(values), dtype=np.uint64)
    m = int(mask)
    shift = 0
    while m:
        low = (m & -m).bit_length() - 1  # lowest set bit
        run = ((m >> low) + 1 & ~(m >> low)).bit_length() - 1  # length of the run of ones from there
        out |= ((values >> np.uint64(low)) & np.uint64((1 << run) - 1)) << np.uint64(shift)
        shift += run
        m &= ~(((1 << run) - 1) << low)
    return out


def _fold(p: np.ndarray, pbits: int, d: np.ndarray, dbits: int) -> np.ndarray:
    """(pHash signature, dHash signature) -> one key: 16 bits (numpy radix-sorts those) when the
    signatures are short, else 32 (dropping high bits of an exact-match key is still exact)."""
    key = p | (d << np.uint64(pbits))
    if pbits + dbits <= 16:
        return key.astype(np.uint16)
    return (key & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def _tables(phash: np.ndarray, dhash: np.ndarray, radius: int, scheme: Scheme) -> Iterator[np.ndarray]:
    """One 16-bit key array per table."""
    sp, sd = _signatures(radius, scheme.p_groups), _signatures(radius, scheme.d_groups)
    dkeys = [_key(dhash, m) for m in sd]
    for mp in sp:
        pk = _key(phash, mp)
        pbits = bin(int(mp)).count("1")
        for dk, md in zip(dkeys, sd):
            yield _fold(pk, pbits, dk, bin(int(md)).count("1"))


def _as_u64(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values).view(np.uint64) if values.dtype == np.int64 else np.asarray(values, dtype=np.uint64)


def _runs(key: np.ndarray, ph: np.ndarray, dh: np.ndarray, radius: int, left: list, right: list) -> None:
    """Verify every pair within each run of equal keys (``key`` sorted; ``ph``/``dh`` in the same order)."""
    r = np.uint8(radius)
    alive = np.flatnonzero(key[1:] == key[:-1])
    step = 1
    while alive.size:
        other = alive + step
        close = np.bitwise_count(ph[alive] ^ ph[other]) <= r
        if close.any():
            a, b = alive[close], other[close]
            both = np.bitwise_count(dh[a] ^ dh[b]) <= r
            left.append(a[both])
            right.append(b[both])
        step += 1
        alive = alive[alive + step < len(key)]
        alive = alive[key[alive + step] == key[alive]]


def near_pairs(phash: np.ndarray, dhash: np.ndarray, radius: int, *, scheme: Scheme | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``i < j`` whose pHashes and dHashes are each within ``radius`` bits: exactly the pairs
    brute force finds, in ``O(tables x n)`` sorting plus the candidates. Sorted, without repeats."""
    ph, dh = _as_u64(phash), _as_u64(dhash)
    n = len(ph)
    if n < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    scheme = scheme or choose_scheme(n, radius)

    def table(key: np.ndarray) -> np.ndarray | None:
        order = np.argsort(key, kind="stable" if key.dtype == np.uint16 else None)  # 16 bits: numpy's radix sort
        left: list[np.ndarray] = []
        right: list[np.ndarray] = []
        _runs(key[order], ph[order], dh[order], radius, left, right)
        if not left:
            return None
        a, b = order[np.concatenate(left)], order[np.concatenate(right)]
        return np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b)

    found: list[np.ndarray] = []
    # tables in THREADS threads (numpy lets go of the GIL while sorting and comparing), a bounded
    # window of them at a time so that memory stays a few arrays of n
    with concurrent.futures.ThreadPoolExecutor(max_workers=THREADS) as pool:
        window: collections.deque = collections.deque()
        for key in _tables(ph, dh, radius, scheme):
            window.append(pool.submit(table, key))
            while len(window) > THREADS:
                found.append(window.popleft().result())
        found.extend(f.result() for f in window)
    found = [f for f in found if f is not None]
    if not found:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    codes = np.unique(np.concatenate(found))
    return codes // n, codes % n


def pairs_against(
    phash: np.ndarray, dhash: np.ndarray, new: np.ndarray, radius: int, *, scheme: Scheme | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs ``(i, j)``, ``i < j``, within ``radius`` on both hashes where ``i`` or ``j`` is one of the
    indices ``new``: a batch of new images matched against the whole archive (same tables, but only the
    runs holding a new image are walked)."""
    ph, dh = _as_u64(phash), _as_u64(dhash)
    n = len(ph)
    new = np.unique(np.asarray(new, dtype=np.int64))
    if n < 2 or not new.size:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    if new.size * 64 < n:  # a few new images: one brute-force pass each beats sorting the tables
        codes = []
        r = np.uint8(radius)
        for i in new.tolist():
            hit = np.flatnonzero((np.bitwise_count(ph ^ ph[i]) <= r) & (np.bitwise_count(dh ^ dh[i]) <= r))
            hit = hit[hit != i]
            codes.append(np.minimum(hit, i) * n + np.maximum(hit, i))
        codes = np.unique(np.concatenate(codes)) if codes else np.empty(0, dtype=np.int64)
        return codes // n, codes % n
    is_new = np.zeros(n, dtype=bool)
    is_new[new] = True
    i, j = near_pairs(ph, dh, radius, scheme=scheme)
    keep = is_new[i] | is_new[j]
    return i[keep], j[keep]


def brute_pairs(phash: np.ndarray, dhash: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs i < j within ``radius`` on both hashes, comparing every pair (in row blocks): the baseline."""
    ph, dh = _as_u64(phash), _as_u64(dhash)
    n = len(ph)
    rows = max(1, min(n, 2**24 // max(n, 1)))
    left, right = [], []
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        i, j = np.nonzero(np.bitwise_count(ph[start:stop, None] ^ ph[None, :]) <= radius)
        i += start
        keep = j > i
        i, j = i[keep], j[keep]
        close = np.bitwise_count(dh[i] ^ dh[j]) <= radius
        left.append(i[close])
        right.append(j[close])
    if not left:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(left).astype(np.int64), np.concatenate(right).astype(np.int64)


def components(count: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """A label per node (the smallest node of its connected component), given edges ``left``-``right``."""
    labels = np.arange(count, dtype=np.int64)
    if not len(left):
        return labels
    a, b = np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)
    while True:
        low = np.minimum(labels[a], labels[b])
        before = labels.copy()
        np.minimum.at(labels, a, low)
        np.minimum.at(labels, b, low)
        while True:  # pointer jumping: every node straight to its root
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(before, labels):
            return labels
