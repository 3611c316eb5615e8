"""Search by meaning with a tiny ONNX model pair built here (tests/tiny_clip.py): embedding in the
media step, ranking (exact, and the PQ fast-scan index re-ranked), filters, fusion with words, model change, missing and damaged
models; and, where the real default model is present, "en hund" against real pictures."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import tiny_clip
from conftest import PROJECT
from test_search_images import add_image
from test_search_text import add_posts

from tiktok_intel import settings as settings_module
from tiktok_intel.cli import main
from tiktok_intel.search import clip, models, semantic
from tiktok_intel.search.errors import SearchError
from tiktok_intel.search.media import process_media
from tiktok_intel.search.samples import make_cover
from tiktok_intel.store import open_db

POSTS = [
    {"post_id": "101", "author": "alice", "description": "valet debatt", "hashtags": ["valet2026"], "views": 500},
    {"post_id": "102", "author": "bob", "description": "valet i kväll", "hashtags": ["valet2026"], "views": 5000},
    {"post_id": "103", "author": "carl", "description": "hunden leker", "hashtags": ["djur"], "views": 50},
    {"post_id": "104", "author": "dora", "description": "bilar på motorvägen", "hashtags": ["trafik"], "views": 900},
    {"post_id": "105", "author": "alice", "description": "en folkmassa", "hashtags": ["valet2026"], "views": 20000},
    {"post_id": "106", "author": "erik", "description": "regn", "hashtags": ["väder"], "views": 10},
]


def _use(workspace, folder):
    return settings_module.configure(workspace, clip_model=str(folder))


@pytest.fixture
def gallery(con, workspace):
    add_posts(con, POSTS)
    for n, post in enumerate(POSTS, start=1):
        add_image(con, workspace, post["post_id"], make_cover(n * 13))
    add_image(con, workspace, "105", make_cover(777), kind="frame", seq=1)  # a second image of one post
    return con


@pytest.fixture
def tiny(tmp_path, workspace):
    folder = tiny_clip.build(tmp_path / "tiny-clip")
    _use(workspace, folder)
    return clip.ClipModel(folder)


def test_preprocessing_and_names_come_from_the_model_files(tmp_path, workspace):
    folder = tiny_clip.build(tmp_path / "m", size=16, dim=8)
    model = clip.ClipModel(folder)
    assert (model.size, model.dim, model.context_length) == (16, 8, 8)
    assert model.preprocess(make_cover(1)).shape == (3, 16, 16)
    assert set(model.tokenize(["en hund"])) == {"input_ids", "attention_mask"}
    assert model.tokenize(["en hund"])["input_ids"].dtype == np.int32
    assert model.tokenize(["en hund"])["input_ids"][0].tolist()[:4] == [2, 8, 4, 3]  # <s> en hund </s>, padded to 8
    vectors = model.embed_images([make_cover(1), make_cover(2), make_cover(3)])
    assert vectors.shape == (3, 8) and np.allclose(np.linalg.norm(vectors, axis=1), 1)
    fixed = clip.ClipModel(tiny_clip.build(tmp_path / "fixed", size=16, dim=8, fixed_batch=True))
    assert np.allclose(fixed.embed_images([make_cover(1), make_cover(2), make_cover(3)]), vectors, atol=1e-5)  # batch 1: one at a time


def test_media_step_embeds_each_image_once(gallery, tiny):
    summary = process_media(gallery)
    assert summary.embeddings.embedded == 7 and "7 images embedded" in summary.summary()
    rows = gallery.execute(
        "SELECT count(*), min(dim), max(dim), count(DISTINCT model) FROM image_embeddings WHERE embedding IS NOT NULL"
    ).fetchone()
    assert rows == (7, 32, 32, 1)
    norms = [np.linalg.norm(r[0]) for r in gallery.execute("SELECT embedding FROM image_embeddings").fetchall()]
    assert np.allclose(norms, 1, atol=1e-5)
    assert semantic.embed_media(gallery).embedded == 0  # unchanged image and model: nothing again
    add_image(gallery, settings_module.get_settings(), "106", make_cover(999))  # a new download of one cover
    again = semantic.embed_media(gallery)
    assert (again.embedded, again.left) == (1, 0)


def test_an_images_own_vector_ranks_it_first(gallery, tiny, workspace):
    semantic.embed_media(gallery)
    for post in ("101", "104", "106"):
        image = workspace.media_dir / f"covers/{post}-cover-0.jpg"
        exact = semantic.search_similar(gallery, str(image), limit=3)
        assert exact[0].post_id == post and exact[0].score == pytest.approx(1.0, abs=1e-3)
        indexed = semantic.search_similar(gallery, str(image), limit=3, exact_max=0)  # through the PQ fast-scan index, re-ranked
        assert [h.post_id for h in indexed] == [h.post_id for h in exact]
    by_post = semantic.search_similar(gallery, "103", limit=10)
    assert "103" not in [h.post_id for h in by_post] and len(by_post) == 5  # its own images are left out


def test_a_query_built_near_an_image_finds_it(gallery, tmp_path, workspace):
    plain = clip.ClipModel(tiny_clip.build(tmp_path / "plain"))
    target = plain.embed_images([make_cover(3 * 13)])[0]  # post 103's cover
    folder = tiny_clip.build(tmp_path / "near", words={"hund": target + 0.05})
    _use(workspace, folder)
    assert semantic.embed_media(gallery).embedded == 7
    hits = semantic.search_meaning(gallery, "en hund", limit=3)
    assert hits[0].post_id == "103" and hits[0].score > 0.9 and hits[0].score > hits[1].score + 0.05
    assert hits[0].url.endswith("/video/103") and hits[0].author == "carl"


def test_filters_apply_before_the_limit(gallery, tmp_path, workspace):
    plain = clip.ClipModel(tiny_clip.build(tmp_path / "plain"))
    target = plain.embed_images([make_cover(3 * 13)])[0]
    _use(workspace, tiny_clip.build(tmp_path / "near", words={"hund": target}))
    semantic.embed_media(gallery)
    hits = semantic.search_meaning(gallery, "hund", limit=1, hashtag="valet2026")
    assert len(hits) == 1 and hits[0].post_id in {"101", "102", "105"}  # the best of the allowed, not nothing
    everything = semantic.search_meaning(gallery, "hund", limit=10, hashtag="valet2026")
    assert {h.post_id for h in everything} == {"101", "102", "105"}
    assert hits[0].post_id == everything[0].post_id
    assert {h.post_id for h in semantic.search_meaning(gallery, "hund", limit=10, author="@Alice")} == {"101", "105"}
    assert {h.post_id for h in semantic.search_meaning(gallery, "hund", limit=10, min_views=1000)} == {"102", "105"}
    via_index = semantic.search_meaning(gallery, "hund", limit=10, min_views=1000, exact_max=0)
    assert {h.post_id for h in via_index} == {"102", "105"}
    assert semantic.search_meaning(gallery, "hund", limit=5, hashtag="finnsinte") == []


def _random_unit(n, dim, seed):
    rows = np.random.default_rng(seed).standard_normal((n, dim), dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_index_finds_what_exact_finds_and_is_kept_beside_the_store(tmp_path):
    matrix = _random_unit(6000, 64, seed=4)
    matrix[5000] = matrix[10]  # an image collected twice: the tie goes to the lower row
    keys = [(str(i), "cover", 0) for i in range(len(matrix))]
    (tmp_path / "vectors-0123456789abcdef.usearch").write_bytes(b"an index of an older version")
    vectors = semantic.VectorSet(keys, matrix, model_id="m", fingerprint="6000:1", index_dir=tmp_path)
    rng = np.random.default_rng(5)
    recall = []
    for row in rng.integers(0, len(matrix), 30):
        query = matrix[row] + 0.5 * rng.standard_normal(64).astype(np.float32) / 8
        query /= np.linalg.norm(query)
        brute = np.argsort(-(matrix @ query), kind="stable")[:10]
        rows, scores = vectors.exact(query, 10)  # above _SCAN_MIN: faiss's scan, re-scored
        assert rows.tolist() == brute.tolist()
        np.testing.assert_allclose(scores, (matrix @ query)[brute], rtol=1e-5)
        found, found_scores = vectors.search(query, 10, exact_max=0)
        assert found[0] == row and np.all(np.diff(found_scores) <= 0)
        recall.append(len(set(found.tolist()) & set(brute.tolist())) / 10)
    assert np.mean(recall) >= 0.9
    tie, _ = vectors.exact(matrix[10], 2)
    assert tie.tolist() == [10, 5000]
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert len(saved) == 2 and saved[0].endswith(".faiss") and saved[1].endswith(".json")  # the old file is gone
    again = semantic.VectorSet(keys, matrix, model_id="m", fingerprint="6000:1", index_dir=tmp_path)
    assert again.ann().ntotal == len(matrix)
    (tmp_path / saved[0]).write_bytes(b"damaged")
    rebuilt = semantic.VectorSet(keys, matrix, model_id="m", fingerprint="6000:1", index_dir=tmp_path)
    assert rebuilt.search(matrix[7], 1, exact_max=0)[0].tolist() == [7]  # a damaged index file is rebuilt


def test_filtered_index_search_keeps_only_allowed_rows(tmp_path):
    matrix = _random_unit(3000, 32, seed=6)
    vectors = semantic.VectorSet([(str(i), "cover", 0) for i in range(3000)], matrix)
    allowed = np.zeros(3000, dtype=bool)
    allowed[::7] = True
    query = matrix[14]
    rows, _ = vectors.search(query, 5, allowed=allowed, exact_max=0)
    best = np.flatnonzero(allowed)[np.argsort(-(matrix[allowed] @ query), kind="stable")[:5]]
    assert rows[0] == 14 and allowed[rows].all() and len(set(rows.tolist()) & set(best.tolist())) >= 4


def test_a_model_change_re_embeds_over_the_next_runs(gallery, tmp_path, workspace):
    _use(workspace, tiny_clip.build(tmp_path / "first", seed=1))
    assert semantic.embed_media(gallery).embedded == 7
    _use(workspace, tiny_clip.build(tmp_path / "second", seed=2))
    first_run = semantic.embed_media(gallery, limit=4)
    assert (first_run.embedded, first_run.left) == (4, 3) and "3 left for the next runs" in first_run.summary()
    model = clip.load()
    assert semantic.coverage(gallery, model.model_id) == (4, 7)
    hits = semantic.search_similar(gallery, str(workspace.media_dir / "covers/101-cover-0.jpg"), limit=10)
    assert len(hits) <= 4  # only vectors of the model in use are compared: the old ones are another space
    second_run = semantic.embed_media(gallery, limit=4)
    assert (second_run.embedded, second_run.left) == (3, 0)
    assert gallery.execute("SELECT count(DISTINCT model) FROM image_embeddings").fetchone()[0] == 1


def test_an_unreadable_image_is_recorded_not_retried(gallery, tiny, workspace):
    (workspace.media_dir / "covers/106-cover-0.jpg").write_bytes(b"not a jpeg")
    result = semantic.embed_media(gallery)
    assert (result.embedded, result.unreadable) == (6, 1)
    error = gallery.execute("SELECT error FROM image_embeddings WHERE post_id = '106'").fetchone()[0]
    assert "not an image" in error
    assert semantic.embed_media(gallery).embedded == 0


def test_rrf_fuses_words_and_meaning_by_rank():
    class T:
        def __init__(self, pid):
            self.post_id, self.url, self.author, self.description = pid, f"u{pid}", None, ""

    meaning = [semantic.SemanticHit(p, "cover", 0, s, f"u{p}", None, None, "") for p, s in (("b", 0.9), ("c", 0.8), ("a", 0.1))]
    fused = semantic.fuse([T("a"), T("b")], meaning, limit=10)
    # b: 1/62 + 1/61; a: 1/61 + 1/63; c: 1/62
    assert [h.post_id for h in fused] == ["b", "a", "c"]
    assert fused[0].score == pytest.approx(1 / 62 + 1 / 61, abs=1e-6) and (fused[0].text_rank, fused[0].meaning_rank) == (2, 1)
    assert fused[2].text_rank is None and fused[2].cosine == 0.8


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_meaning_similar_and_words_together(gallery, tmp_path, workspace, capsys, monkeypatch):
    plain = clip.ClipModel(tiny_clip.build(tmp_path / "plain"))
    target = plain.embed_images([make_cover(5 * 13)])[0]  # post 105's cover
    monkeypatch.setenv("TIKTOK_INTEL_CLIP_MODEL", str(tiny_clip.build(tmp_path / "near", words={"folkmassa": target})))
    gallery.close()
    db = workspace.db_target
    code, out, _ = run(capsys, "--db", db, "media")
    assert code == 0 and "7 images embedded" in out
    code, out, _ = run(capsys, "--db", db, "search", "--meaning", "folkmassa", "--format", "json")
    hits = json.loads(out)
    assert code == 0 and hits[0]["post_id"] == "105" and {"score", "url", "kind"} <= set(hits[0])
    code, out, _ = run(capsys, "--db", db, "search", "--meaning", "folkmassa", "--hashtag", "valet2026")
    assert code == 0 and out.splitlines()[0].split()[:2] == ["cosine", "post"] and "105" in out.splitlines()[2]
    code, out, _ = run(capsys, "--db", db, "search", "--similar", str(workspace.media_dir / "covers/104-cover-0.jpg"), "--format", "json")
    assert json.loads(out)[0]["post_id"] == "104"
    code, out, _ = run(capsys, "--db", db, "search", "valet", "--meaning", "folkmassa", "--format", "json")
    fused = json.loads(out)
    by_id = {h["post_id"]: h for h in fused}
    assert code == 0 and {"101", "102", "105"} <= set(by_id)  # words find 101 and 102; the picture finds 105
    assert by_id["105"]["meaning_rank"] == 1 and by_id["105"]["text_rank"] is None
    assert {p for p, h in by_id.items() if h["text_rank"]} == {"101", "102"}
    for h in fused:  # each score is the sum of 1 / (60 + rank) over the lists the post is in
        expected = sum(1 / (60 + r) for r in (h["text_rank"], h["meaning_rank"]) if r)
        assert h["score"] == pytest.approx(expected, abs=1e-6)
    assert [h["score"] for h in fused] == sorted((h["score"] for h in fused), reverse=True)
    code, out, _ = run(capsys, "--db", db, "search", "--image", str(workspace.media_dir / "covers/104-cover-0.jpg"), "--format", "json")
    assert code == 0 and json.loads(out)[0]["post_id"] == "104"  # --image stays the near-duplicate search


def test_no_model_every_other_search_works_and_meaning_says_how(gallery, workspace, capsys, monkeypatch):
    monkeypatch.delenv("TIKTOK_INTEL_CLIP_MODEL", raising=False)
    settings_module.configure(workspace, clip_model="")
    summary = process_media(gallery)
    assert summary.hashed == 7 and summary.embeddings.skipped and "tiktok-intel models fetch" in summary.summary()
    gallery.close()
    db = workspace.db_target
    code, out, _ = run(capsys, "--db", db, "search", "valet", "--format", "json")
    assert code == 0 and json.loads(out)
    for argv in (["--meaning", "brinnande bil"], ["--similar", "101"], ["valet", "--meaning", "folkmassa"]):
        code, out, err = run(capsys, "--db", db, "search", *argv)
        assert code == 1 and out == "" and len(err.strip().splitlines()) == 1, err
        assert "tiktok-intel models fetch" in err and "TIKTOK_INTEL_CLIP_MODEL" in err
    code, _, err = run(capsys, "--db", db, "models", "status")
    assert code == 1 and "tiktok-intel models fetch" in err and len(err.strip().splitlines()) == 1
    from tiktok_intel.dashboards import ui
    from tiktok_intel.search.models import ModelMissingError, model_path
    from tiktok_intel.texts import use

    with pytest.raises(ModelMissingError) as missing:
        model_path()
    use("sv")  # the Search dashboard says it in the page's language, without the workspace's paths
    said = ui.error_text(missing.value)
    assert said.startswith("Sökning på betydelse behöver en modell") and "/" not in said  # no server paths on a page
    use("en")
    assert "tiktok-intel models fetch" in ui.error_text(missing.value)
    use(None)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "tokenizer"])
def test_a_damaged_model_is_one_line(gallery, tmp_path, workspace, capsys, monkeypatch, damage):
    folder = tiny_clip.build(tmp_path / "m")
    files = {name: None for name in ("config.json", "visual/model.onnx", "visual/preprocess_cfg.json", "textual/model.onnx")}
    models.write_manifest(folder, models.DEFAULT, files)
    monkeypatch.setenv("TIKTOK_INTEL_CLIP_MODEL", str(folder))
    _use(workspace, folder)
    if damage == "garbage":
        (folder / "visual" / "model.onnx").write_bytes(b"\x08\x07garbage" * 10)
        models.write_manifest(folder, models.DEFAULT, files)  # sizes agree: ONNX Runtime itself refuses it
    elif damage == "truncated":
        data = (folder / "textual" / "model.onnx").read_bytes()
        (folder / "textual" / "model.onnx").write_bytes(data[: len(data) // 2])
    else:
        (folder / "textual" / "tokenizer.json").write_text("{not json")
    gallery.close()
    code, out, err = run(capsys, "--db", workspace.db_target, "search", "--meaning", "hund")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "tiktok-intel models fetch" in err, err
    assert "damaged" in err or "cut short" in err
    con = open_db(workspace.db_target)
    try:
        summary = process_media(con)  # the media step goes on without it
        assert summary.hashed == 7 and "damaged" in summary.summary()
    finally:
        con.close()


def test_the_registry_names_one_default_with_its_facts():
    spec = models.DEFAULT
    assert models.spec() is spec and models.MODELS[spec.name] is spec
    assert len(spec.revision) == 40 and all(c in "0123456789abcdef" for c in spec.revision)
    assert spec.dim == 512 and spec.licence and spec.size and spec.repo.count("/") == 1
    assert (spec.visual_input, spec.visual_output, spec.text_inputs) == ("image", "embedding", ("input_ids", "attention_mask"))
    with pytest.raises(SearchError, match="known models"):
        models.spec("nope")


def test_checksums_are_checked(tmp_path):
    folder = tiny_clip.build(tmp_path / "m")
    names = {"config.json": None, "visual/model.onnx": None}
    models.write_manifest(folder, models.DEFAULT, names)
    assert models.check_files(folder, full=True) == 2
    with pytest.raises(models.ModelDamagedError, match="sha256 the hub gives"):
        models.write_manifest(folder, models.DEFAULT, {"config.json": "0" * 64})
    (folder / "config.json").write_text((folder / "config.json").read_text().replace("32", "64"))
    with pytest.raises(models.ModelDamagedError, match="sha256"):
        models.check_files(folder, full=True)


# ------------------------------------------------------------------------------------ the real model


def _dog():
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (360, 640), (120, 170, 90))
    d = ImageDraw.Draw(image)
    brown = (140, 90, 40)
    d.ellipse([70, 300, 290, 430], fill=brown)  # body
    d.ellipse([230, 220, 330, 320], fill=brown)  # head
    d.polygon([(240, 230), (255, 170), (275, 235)], fill=(100, 60, 25))  # ear
    d.ellipse([300, 255, 325, 275], fill=(20, 20, 20))  # nose
    d.ellipse([270, 245, 282, 257], fill=(0, 0, 0))  # eye
    for x in (90, 130, 220, 250):
        d.rectangle([x, 410, x + 22, 500], fill=brown)  # legs
    d.line([(75, 330), (30, 270)], fill=brown, width=14)  # tail
    return image


def _car():
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (360, 640), (150, 150, 160))
    d = ImageDraw.Draw(image)
    d.rectangle([30, 330, 330, 420], fill=(200, 20, 20))  # body
    d.polygon([(90, 330), (130, 270), (250, 270), (290, 330)], fill=(200, 20, 20))  # cabin
    d.polygon([(105, 328), (138, 280), (185, 280), (185, 328)], fill=(170, 210, 240))  # windows
    d.polygon([(195, 328), (195, 280), (245, 280), (275, 328)], fill=(170, 210, 240))
    for x in (70, 240):
        d.ellipse([x, 390, x + 60, 450], fill=(20, 20, 20))  # wheels
    return image


@pytest.mark.model
def test_the_real_model_ranks_a_dog_above_a_car_for_en_hund(tmp_path):
    """Among the offline TikTok's covers plus a dog and a car picture: "en hund" ranks the dog above the car.
    The suite runs away from the caller's workspace and ``TIKTOK_INTEL_*`` variables, so the model's
    folder is named by ``CLIP_TEST_MODEL_DIR`` (e.g. the ``data/models/...`` folder `models fetch` filled)."""
    given = os.environ.get("CLIP_TEST_MODEL_DIR", "")
    if not given:
        pytest.skip("the real model is not on this machine: set CLIP_TEST_MODEL_DIR to the folder `tiktok-intel models fetch` filled")
    given = str(PROJECT / given)  # a relative folder is the checkout's (the suite runs in another folder)
    folder = models.model_path(settings_module.load_settings(environ={"TIKTOK_INTEL_CLIP_MODEL": given}, dotenv=None))
    from tiktok_intel.offline.images import cover_jpeg
    from tiktok_intel.offline.world import World
    from tiktok_intel.search.fetch import open_image

    model = clip.ClipModel(folder)
    world = World(seed=21)
    covers = [open_image(cover_jpeg(p)) for p in list(world.posts_by_id.values())[:40]]
    vectors = model.embed_images([_dog(), _car(), *covers])
    for query in ("en hund", "a dog"):
        scores = vectors @ model.embed_texts([query])[0]
        assert scores[0] > scores[1], (query, scores[:2])
        assert (scores[2:] < scores[0]).all()


def test_a_hand_made_copy_is_known_by_its_files_not_its_folder_name(tmp_path):
    one = clip.ClipModel(tiny_clip.build(tmp_path / "a" / "clip", seed=1))
    same = clip.ClipModel(tiny_clip.build(tmp_path / "b" / "clip", seed=1))
    other = clip.ClipModel(tiny_clip.build(tmp_path / "c" / "clip", seed=2, dim=16))
    assert one.model_id == same.model_id != other.model_id and one.model_id.startswith("local:clip:")
