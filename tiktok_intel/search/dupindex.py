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

Each table costs one radix sort of 16-bit keys (a signature longer than 16 bits loses its high bits:
dropping bits of an exact-match key never loses a pair, it only adds candidates); the runs of equal
keys are then compared with numpy (XOR, ``bitwise_count``) in contiguous passes over the runs of each
length. 1,000,000 random hashes at radius 10: 8 s on 2 cores, 10,000,000: 8 min (bench/README.md).
:func:`near_pairs` is the whole-archive join, :func:`pairs_against` matches a few new images
against the archive (the media step), :func:`components` turns pairs into groups.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import itertools

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


#: Per-table cost: the radix sort and gathers of the n entries, and each candidate pair compared
#: (seconds, one thread, fitted to 1,000,000 random hashes here: (4,4) 47 ms a table, (6,6) 83 ms).
_SORT_COST, _CANDIDATE_COST = 36e-9, 3.2e-9


def choose_scheme(n: int, radius: int) -> Scheme:
    """The scheme with the lowest estimated cost for ``n`` hashes: a sort per table against the
    candidates (random hashes: n²/2 per table over 2^key bits)."""
    best = None
    for p in range(0, 7):
        for d in range(0, p + 1):
            bits = min(16, _bits(radius, p)) + min(16, _bits(radius, d))  # each signature's key: 16 bits at most
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


def _half(values: np.ndarray, mask: np.uint64) -> np.ndarray:
    """One signature as a 16-bit key (numpy radix-sorts those): the bits under ``mask``, the high ones
    dropped when there are more than 16 (dropping bits of an exact-match key never loses a pair, it
    only adds candidates)."""
    return (_key(values, mask) & np.uint64(0xFFFF)).astype(np.uint16)


def _as_u64(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values).view(np.uint64) if values.dtype == np.int64 else np.asarray(values, dtype=np.uint64)


#: The d signatures' keys are computed once for all p signatures when they take at most this much.
_KEEP_KEYS_BYTES = 256 * 2**20


#: Runs of equal keys up to this long (or fewer runs of a length than it has offsets) are compared
#: offset by offset with all the runs of their length; a longer one (many copies of one image) is
#: compared with itself at once, in blocks.
_LONG = 32


def _run_pairs(key: np.ndarray, porder: np.ndarray, order: np.ndarray, ph: np.ndarray, dh: np.ndarray, radius: int) -> np.ndarray | None:
    """The pairs within ``radius`` on both hashes inside the runs of equal ``key`` (sorted; its k-th
    entry is ``ph[porder[order[k]]]``), as codes ``i * n + j`` with ``i < j``; None if there are none.

    The runs are laid out by length, so the runs of one length ``L`` make a (runs, L) matrix of
    pHashes, and offset ``s`` compares its column slices ``[:, :-s]`` and ``[:, s:]``: ``L - 1``
    contiguous passes for all the runs of that length, no gather per candidate (a walk gathering
    both sides of every candidate was 2x slower). The dHash is checked for the few that pass."""
    n = len(ph)
    r = np.uint8(radius)
    starts = np.concatenate(([0], np.flatnonzero(key[1:] != key[:-1]) + 1))
    lens = np.diff(starts, append=len(key))
    several = lens > 1
    if not several.any():
        return None
    starts, lens = starts[several], lens[several]
    by_length = np.argsort(lens.astype(np.uint16) if lens.max() < 2**16 else lens, kind="stable")  # radix: short runs
    starts, lens = starts[by_length], lens[by_length]
    offsets = np.cumsum(lens) - lens
    idx = porder[order[np.repeat(starts - offsets, lens) + np.arange(int(offsets[-1] + lens[-1]))]]
    p = ph[idx]
    codes: list[np.ndarray] = []

    def verify(a: np.ndarray, b: np.ndarray) -> None:  # positions in ``p`` whose pHashes are close
        ia, ib = idx[a], idx[b]
        both = np.bitwise_count(dh[ia] ^ dh[ib]) <= r
        if both.any():
            ia, ib = ia[both], ib[both]
            codes.append(np.minimum(ia, ib) * n + np.maximum(ia, ib))

    first = np.flatnonzero(np.diff(lens, prepend=0))  # the first run of each length
    for c, r0 in enumerate(first.tolist()):
        r1 = int(first[c + 1]) if c + 1 < len(first) else len(lens)
        length, o0 = int(lens[r0]), int(offsets[r0])
        if length <= _LONG or length - 1 <= r1 - r0:
            block = p[o0 : o0 + (r1 - r0) * length].reshape(-1, length)
            for s in range(1, length):
                close = np.bitwise_count(block[:, :-s] ^ block[:, s:]) <= r
                if close.any():
                    rows, cols = np.nonzero(close)
                    a = o0 + rows * length + cols
                    verify(a, a + s)
            continue
        rows = max(1, 2**22 // length)
        for o in range(o0, o0 + (r1 - r0) * length, length):
            run = p[o : o + length]
            for i0 in range(0, length, rows):
                i, j = np.nonzero(np.bitwise_count(run[i0 : i0 + rows, None] ^ run[None, :]) <= r)
                i += i0
                up = j > i
                verify(o + i[up], o + j[up])
    return np.concatenate(codes) if codes else None


def near_pairs(phash: np.ndarray, dhash: np.ndarray, radius: int, *, scheme: Scheme | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``i < j`` whose pHashes and dHashes are each within ``radius`` bits: exactly the pairs
    brute force finds, in ``O(tables x n)`` sorting plus the candidates. Sorted, without repeats.

    A table's key is (pHash signature, dHash signature), each 16 bits at most. The hashes are put in
    the order of a pHash signature once (a radix sort); each of the tables sharing it then needs one
    *stable* radix sort of the dHash signature: within equal dHash keys the pHash order is kept, so
    equal (dHash, pHash) keys end up adjacent without sorting a 32-bit key (14x slower in numpy)."""
    ph, dh = _as_u64(phash), _as_u64(dhash)
    n = len(ph)
    if n < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    scheme = scheme or choose_scheme(n, radius)
    sp, sd = _signatures(radius, scheme.p_groups), _signatures(radius, scheme.d_groups)
    dkeys = [_half(dh, m) for m in sd] if n * 2 * len(sd) <= _KEEP_KEYS_BYTES else None

    def tables(mp: np.uint64) -> list[np.ndarray]:
        pk = _half(ph, mp)
        porder = np.argsort(pk, kind="stable")
        pk = pk[porder]
        dhp = dh[porder] if dkeys is None else None
        out = []
        for i, md in enumerate(sd):
            dk = dkeys[i][porder] if dkeys is not None else _half(dhp, md)
            order = np.argsort(dk, kind="stable")
            codes = _run_pairs(dk[order].astype(np.uint32) << np.uint32(16) | pk[order], porder, order, ph, dh, radius)
            if codes is not None:
                out.append(codes)
        return out

    found: list[np.ndarray] = []
    # the pHash signatures in THREADS threads (numpy lets go of the GIL while sorting and comparing),
    # a bounded window of them at a time so that memory stays a few arrays of n
    with concurrent.futures.ThreadPoolExecutor(max_workers=THREADS) as pool:
        window: collections.deque = collections.deque()
        for mp in sp:
            window.append(pool.submit(tables, mp))
            while len(window) > THREADS:
                found.extend(window.popleft().result())
        for f in window:
            found.extend(f.result())
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
