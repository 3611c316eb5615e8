"""OCR: the words overlaid on covers are read (Swedish letters too), stored per image, searchable;
a missing Tesseract is reported in one line and the rest of the media step runs."""

from __future__ import annotations

import logging
import shutil

import pytest
from test_search_images import add_image
from test_search_text import add_posts

from tiktok_intel.search import check_tesseract, ocr_image, ocr_images, process_media, search_text
from tiktok_intel.search.samples import make_cover

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None or check_tesseract() is not None,
    reason="tesseract-ocr with swe+eng is not installed (CI installs it: apt-get install tesseract-ocr tesseract-ocr-swe)",
)


@needs_tesseract
def test_reads_the_overlaid_words(tmp_path, workspace):
    path = tmp_path / "cover.jpg"
    make_cover(3, "Valet 2026 #svtnyheter").save(path, quality=90)
    assert "Valet 2026 #svtnyheter" in ocr_image(path)
    path = tmp_path / "cover2.png"
    make_cover(4, "Fika på Södermalm i Göteborg").save(path)
    assert "Fika på Södermalm i Göteborg" in ocr_image(path)


@needs_tesseract
def test_a_batch_reads_what_one_at_a_time_reads_and_a_bad_image_fails_alone(tmp_path, workspace):
    words = ["Valet 2026 #svtnyheter", None, "Skolstrejk för klimatet", "", "Fika på Södermalm"]
    paths = []
    for i, text in enumerate(words):
        path = tmp_path / f"img{i}.png"
        if text is None:
            path.write_bytes(b"<html>not an image</html>")  # stops Tesseract's whole list
        else:
            make_cover(i, text or None).save(path)
        paths.append(path)
    (tmp_path / "empty.jpg").write_bytes(b"")
    paths.append(tmp_path / "empty.jpg")
    read = ocr_images(paths)
    assert len(read) == len(paths)
    for i, (path, (text, error)) in enumerate(zip(paths, read)):
        if i in (1, 5):
            assert text is None and error, (path, error)
            with pytest.raises(RuntimeError):
                ocr_image(path)
        else:
            assert error is None and text == ocr_image(path), path
    assert "Skolstrejk för klimatet" in read[2][0] and "Fika på Södermalm" in read[4][0]
    assert ocr_images(paths[2:3]) == [(ocr_image(paths[2]), None)] and ocr_images([]) == []


@needs_tesseract
def test_media_step_makes_image_words_searchable(con, workspace):
    add_posts(
        con,
        [
            {"post_id": "1", "author": "a", "description": "kolla här"},
            {"post_id": "2", "author": "b", "description": "ingen text i bilden"},
            {"post_id": "3", "author": "c", "description": "en video"},
        ],
    )
    add_image(con, workspace, "1", make_cover(1, "Valet 2026 #svtnyheter"))
    add_image(con, workspace, "2", make_cover(2))
    add_image(con, workspace, "3", make_cover(5, "Skolstrejk för klimatet"))
    summary = process_media(con)
    assert summary.hashed == 3 and summary.ocr.read == 3 and summary.ocr.with_text >= 2 and summary.indexed == 3
    assert "3 images hashed" in str(summary) and "\n" not in str(summary)
    rows = dict(con.execute("SELECT post_id, text FROM ocr_text WHERE languages = 'swe+eng'").fetchall())
    assert "Valet 2026 #svtnyheter" in rows["1"]
    assert [h.post_id for h in search_text(con, "svtnyheter valet")] == ["1"]  # only in the picture
    assert [h.post_id for h in search_text(con, "klimatet")] == ["3"]
    assert [h.post_id for h in search_text(con, "skolstrejken")] == ["3"]  # stemmed: skolstrejk
    # nothing new: nothing redone
    again = process_media(con)
    assert (again.hashed, again.ocr.read, again.indexed) == (0, 0, 0)


def test_missing_tesseract_is_one_line_and_the_rest_runs(con, workspace, caplog):
    add_posts(con, [{"post_id": "1", "author": "a", "description": "en bild"}])
    add_image(con, workspace, "1", make_cover(1, "Valet 2026"))
    with caplog.at_level(logging.WARNING, logger="tiktok_intel.search"):
        summary = process_media(con, tesseract="/nonexistent/bin/tesseract")
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "Tesseract not found" in warnings[0] and "apt-get install tesseract-ocr" in warnings[0]
    assert summary.hashed == 1 and summary.indexed == 1 and summary.ocr.pending == 1
    assert "OCR skipped" in str(summary)
    assert con.execute("SELECT count(*) FROM ocr_text").fetchone()[0] == 0  # left for a later run
    assert [h.post_id for h in search_text(con, "bild")] == ["1"]


def test_missing_language_is_named(workspace):
    if shutil.which("tesseract") is None:
        pytest.skip("needs the tesseract binary to list its languages")
    reason = check_tesseract(languages="swe+xyz")
    assert reason and "xyz" in reason and "tesseract-ocr-xyz" in reason


def test_languages_change_means_read_again(con, workspace):
    from tiktok_intel.search.ocr import pending_ocr

    add_posts(con, [{"post_id": "1"}])
    add_image(con, workspace, "1", make_cover(1))
    con.execute("INSERT INTO ocr_text VALUES ('1', 'cover', 0, (SELECT sha256 FROM media), 'eng', 'x', NULL, now()::TIMESTAMP)")
    assert len(pending_ocr(con, "eng")) == 0
    assert len(pending_ocr(con, "swe+eng")) == 1
