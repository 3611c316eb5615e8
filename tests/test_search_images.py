"""Image hashes, search by image (file, URL, post id), near-duplicate groups, refusals, key frames."""

from __future__ import annotations

import hashlib

import httpx
import numpy as np
import pytest
from test_search_text import add_posts

from tiktok_intel import clock
from tiktok_intel.search import HostNotAllowedError, ImageInputError, find_duplicates, hash_media, image_hashes, search_image
from tiktok_intel.search import fetch as fetch_module
from tiktok_intel.search.images import HashIndex, python_loop_baseline
from tiktok_intel.search.samples import make_cover, near_duplicate


def add_image(con, workspace, post_id, image, *, kind="cover", seq=0, fmt="JPEG"):
    rel = f"covers/{post_id}-{kind}-{seq}.{'jpg' if fmt == 'JPEG' else fmt.lower()}"
    path = workspace.media_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    data = path.read_bytes()
    con.execute("DELETE FROM media WHERE post_id = ? AND kind = ? AND seq = ?", [post_id, kind, seq])
    con.execute(
        "INSERT INTO media (post_id, kind, seq, path, sha256, content_type, bytes, width, height, fetched_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [post_id, kind, seq, rel, hashlib.sha256(data).hexdigest(), "image/jpeg", len(data), *image.size, clock.now()],
    )
    return path


@pytest.fixture
def gallery(con, workspace):
    """Post 1 (by alice) is the original; 2-5 are re-uploads by other accounts (and one by alice);
    6-9 are unrelated pictures, two of them with the same text overlay."""
    original = make_cover(1, "Valet 2026 #svtnyheter")
    posts = [
        ("1", "alice", original),
        ("2", "bob", near_duplicate(original, "resize")),
        ("3", "carl", near_duplicate(original, "jpeg")),
        ("4", "dora", near_duplicate(original, "crop")),
        ("5", "alice", near_duplicate(original, "bright")),
        ("6", "erik", make_cover(6, "Valet 2026 #svtnyheter")),
        ("7", "fia", make_cover(7)),
        ("8", "gus", make_cover(8, "Fika")),
        ("9", "hanna", make_cover(9)),
    ]
    add_posts(con, [{"post_id": p, "author": a, "description": f"post {p}"} for p, a, _ in posts])
    # an unrelated picture posted twice by two accounts: a second group
    add_posts(con, [{"post_id": "10", "author": "ivar"}, {"post_id": "11", "author": "jon"}])
    for post_id, _, image in posts:
        add_image(con, workspace, post_id, image)
    other = make_cover(10)
    add_image(con, workspace, "10", other)
    add_image(con, workspace, "11", near_duplicate(other, "jpeg"))
    assert hash_media(con) == (11, 0)
    return original


def test_hashes_are_stored_once_and_redone_when_the_file_changes(con, workspace, gallery):
    assert con.execute("SELECT count(*) FROM image_hashes WHERE phash IS NOT NULL AND dhash IS NOT NULL").fetchone()[0] == 11
    assert hash_media(con) == (0, 0)
    add_image(con, workspace, "9", make_cover(99))  # a new download of post 9's cover
    assert hash_media(con) == (1, 0)


def test_stored_hashes_match_imagehash(con, workspace, gallery):
    import imagehash

    stored = con.execute("SELECT phash, dhash FROM image_hashes WHERE post_id = '1'").fetchone()
    from PIL import Image

    with Image.open(workspace.media_dir / "covers/1-cover-0.jpg") as im:
        expected = imagehash.phash(im)
    assert stored[0] & 0xFFFFFFFFFFFFFFFF == int(str(expected), 16)
    assert image_hashes(Image.open(workspace.media_dir / "covers/1-cover-0.jpg").convert("RGB")) == stored


def test_search_by_file_finds_the_near_duplicates_and_not_the_unrelated(con, workspace, gallery, tmp_path):
    query = tmp_path / "query.png"
    near_duplicate(gallery, "jpeg").save(query)
    hits = search_image(con, str(query))
    assert {h.post_id for h in hits} == {"1", "2", "3", "4", "5"}
    assert [h.distance for h in hits] == sorted(h.distance for h in hits)
    assert all(h.distance <= 10 for h in hits)
    assert hits[0].post_id in {"1", "2", "3"} and hits[0].distance <= 3
    cropped = next(h for h in hits if h.post_id == "4")
    assert cropped.distance == max(cropped.phash_distance, cropped.dhash_distance) > hits[0].distance
    assert hits[0].url.startswith("https://www.tiktok.com/@") and hits[0].url.endswith(f"/video/{hits[0].post_id}")
    # a tighter threshold leaves the crop out
    assert "4" not in {h.post_id for h in search_image(con, str(query), max_distance=3)}


def test_search_by_post_id_leaves_the_post_itself_out(con, gallery):
    hits = search_image(con, "2")
    assert {h.post_id for h in hits} == {"1", "3", "4", "5"}
    with pytest.raises(ImageInputError, match="no downloaded cover"):
        search_image(con, "424242424242")


def test_unrelated_query_finds_nothing(con, gallery, tmp_path):
    query = tmp_path / "other.jpg"
    make_cover(12345, "Något helt annat").save(query)
    assert search_image(con, str(query)) == []


def test_duplicate_groups_span_accounts_and_are_listed_by_size(con, gallery):
    groups = find_duplicates(con)
    assert [g.size for g in groups] == [5, 2]
    assert {p.post_id for p in groups[0].posts} == {"1", "2", "3", "4", "5"}
    assert groups[0].accounts == 4  # alice twice
    assert {p.post_id for p in groups[1].posts} == {"10", "11"}
    # a pair by the same account alone is not a cross-account group
    assert [g.size for g in find_duplicates(con, min_accounts=5)] == []


def test_same_account_reposts_are_not_a_group(con, workspace):
    add_posts(con, [{"post_id": "1", "author": "solo"}, {"post_id": "2", "author": "solo"}])
    image = make_cover(3)
    add_image(con, workspace, "1", image)
    add_image(con, workspace, "2", near_duplicate(image, "resize"))
    hash_media(con)
    assert find_duplicates(con) == []


def test_bad_image_inputs_are_refused_in_one_line(con, workspace, gallery, tmp_path):
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not an image")
    cases = [(str(tmp_path / "missing.jpg"), "no such file"), (str(text_file), "not an image"), (str(tmp_path), "not a file")]
    huge = tmp_path / "huge.png"
    from PIL import Image

    Image.new("1", (9000, 9000)).save(huge)  # 81 megapixels, a small file
    cases.append((str(huge), "megapixel limit"))
    for query, needle in cases:
        with pytest.raises(ImageInputError) as info:
            search_image(con, query)
        assert needle in str(info.value) and "\n" not in str(info.value)


def test_unreadable_media_is_recorded_not_fatal(con, workspace):
    add_posts(con, [{"post_id": "1"}])
    (workspace.media_dir / "covers").mkdir(parents=True)
    (workspace.media_dir / "covers/1.jpg").write_bytes(b"<html>not a jpeg</html>")
    con.execute(
        "INSERT INTO media (post_id, kind, seq, path, sha256, fetched_at) VALUES ('1', 'cover', 0, 'covers/1.jpg', 'x', ?)", [clock.now()]
    )
    assert hash_media(con) == (0, 1)
    assert "not an image" in con.execute("SELECT error FROM image_hashes").fetchone()[0]


class FakeCDN:
    """An httpx transport serving a few URLs, to test URL queries without a network."""

    def __init__(self, routes):
        self.routes = routes

    def __call__(self, request: httpx.Request) -> httpx.Response:
        status, headers, body = self.routes.get(str(request.url), (404, {}, b""))
        return httpx.Response(status, headers=headers, content=body)


@pytest.fixture
def fake_cdn(monkeypatch):
    routes = {}
    real = httpx.Client

    def client(*args, **kwargs):
        kwargs.pop("proxy", None)
        return real(*args, transport=httpx.MockTransport(FakeCDN(routes)), **kwargs)

    monkeypatch.setattr(httpx, "Client", client)
    return routes


def test_search_by_url_on_an_allowed_host(con, gallery, fake_cdn):
    import io

    buffer = io.BytesIO()
    near_duplicate(gallery, "resize").save(buffer, "JPEG")
    fake_cdn["https://p16-sign.tiktokcdn.com/obj/cover.jpeg?x-signature=abc"] = (200, {"content-type": "image/jpeg"}, buffer.getvalue())
    fake_cdn["https://p16-sign.tiktokcdn.com/redirect"] = (302, {"location": "https://evil.example.com/x.jpg"}, b"")
    fake_cdn["https://p16-sign.tiktokcdn.com/page"] = (200, {"content-type": "text/html"}, b"<html></html>")
    fake_cdn["https://p16-sign.tiktokcdn.com/big.jpg"] = (200, {"content-type": "image/jpeg"}, b"\xff" * 2_000)
    hits = search_image(con, "https://p16-sign.tiktokcdn.com/obj/cover.jpeg?x-signature=abc")
    assert {h.post_id for h in hits} == {"1", "2", "3", "4", "5"}
    with pytest.raises(HostNotAllowedError, match="not on an allowed media host"):
        search_image(con, "https://evil.example.com/cover.jpg")
    with pytest.raises(HostNotAllowedError):  # a redirect away from the allowed hosts
        search_image(con, "https://p16-sign.tiktokcdn.com/redirect")
    with pytest.raises(ImageInputError, match="text/html"):
        search_image(con, "https://p16-sign.tiktokcdn.com/page")
    with pytest.raises(ImageInputError, match="limit"):
        fetch_module.download("https://p16-sign.tiktokcdn.com/big.jpg", max_bytes=1_000)


def test_host_allowed():
    hosts = ("tiktokcdn.com",)
    assert fetch_module.host_allowed("https://p16.tiktokcdn.com/a.jpg", hosts)
    assert fetch_module.host_allowed("https://tiktokcdn.com/a.jpg", hosts)
    assert not fetch_module.host_allowed("https://tiktokcdn.com.evil.net/a.jpg", hosts)
    assert not fetch_module.host_allowed("https://eviltiktokcdn.com/a.jpg", hosts)
    assert not fetch_module.host_allowed("file:///etc/passwd", hosts)


def test_numpy_search_agrees_with_the_python_loop():
    rng = np.random.default_rng(1)
    phash = rng.integers(-(2**63), 2**63 - 1, size=5_000, dtype=np.int64)
    phash[100:110] = phash[7] ^ np.int64(0b1011)  # 3 bits away
    index = HashIndex(phash, phash)
    idx, pd, _ = index.query(int(phash[7]), int(phash[7]), 8)
    assert sorted(idx.tolist()) == python_loop_baseline(phash.tolist(), int(phash[7]), 8)
    assert idx[0] == 7 and pd[0] == 0


def test_key_frames_from_a_video(con, workspace, fake_cdn, monkeypatch):
    cv2 = pytest.importorskip("cv2")  # scenedetect-headless brings it
    from tiktok_intel.search import extract_keyframes

    video = workspace.workspace_path / "source.mp4"
    video.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10, (180, 320))
    for scene in range(3):
        frame = cv2.cvtColor(np.asarray(make_cover(scene + 20, size=(180, 320))), cv2.COLOR_RGB2BGR)
        for _ in range(15):
            writer.write(frame)
    writer.release()
    fake_cdn["https://v16.tiktokcdn.com/video.mp4"] = (200, {"content-type": "video/mp4"}, video.read_bytes())
    add_posts(con, [{"post_id": "1", "author": "a"}])
    con.execute("UPDATE posts SET video_url = 'https://v16.tiktokcdn.com/video.mp4' WHERE post_id = '1'")
    result = extract_keyframes(con)
    assert (result.videos, result.frames, result.failed) == (1, 3, 0), result
    rows = con.execute("SELECT seq, path FROM media WHERE kind = 'frame' ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == [1, 2, 3]
    assert not (workspace.media_dir / "videos" / "1.mp4").exists()  # deleted: keep_videos is off
    assert hash_media(con) == (3, 0)
    # each kept frame is its scene's picture
    hits = search_image(con, make_cover(21, size=(180, 320)), max_distance=12)
    assert hits and hits[0].kind == "frame" and hits[0].seq == 2
    assert extract_keyframes(con).videos == 0  # done once
