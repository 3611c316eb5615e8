"""What posts show and say: WebVTT, the media an item offers, the offline TikTok's videos, slides and
captions, downloads at collection time (kinds, cookies, refresh, bad media, retries), Research API
``voice_to_text``, the transcripts table."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from pathlib import Path

import httpx
import pytest

from tiktok_intel import clock, downloads, tracking, transcripts
from tiktok_intel import settings as settings_module
from tiktok_intel.collect import collect
from tiktok_intel.offline import OfflineTikTok
from tiktok_intel.offline import media as offline_media
from tiktok_intel.parsing.item_media import detail_item, item_offers, url_expires
from tiktok_intel.parsing.webvtt import parse_webvtt, seconds
from tiktok_intel.sources import http as http_module

T = dt.datetime(2026, 11, 10, 8, 0)

VTT = b"""WEBVTT Kind: captions; Language: sv

NOTE made by hand

STYLE
::cue { color: white }

1
00:00:01.000 --> 00:00:03.500 align:center line:90%
<c.white>Hej &amp; v\xc3\xa4lkommen</c>

cue-2
00:03.500 --> 00:00:06.000
<v Anna>idag pratar vi</v>
om <b>statsbudget</b> &lt;nu&gt;

00:00:06.000 --> 00:00:08.250
<00:00:06.500>tack<00:00:07.000> f\xc3\xb6r &nbsp;idag
"""


def test_webvtt_cue_timing_multiline_cues_entities_and_no_styling_tags():
    result = parse_webvtt(VTT)
    assert result.ok and result.broken_cues == 0
    assert [(s.start_s, s.end_s, s.text) for s in result.segments] == [
        (1.0, 3.5, "Hej & välkommen"),
        (3.5, 6.0, "idag pratar vi om statsbudget <nu>"),
        (6.0, 8.25, "tack för idag"),
    ]
    assert seconds("1:02:03.5") == 3723.5 and seconds("61:00.000") is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty caption file"),
        (b"1\n00:00:01.000 --> 00:00:02.000\nno header\n", "not WebVTT"),
        (b"WEBVTT\n\n1\n00:00:xx --> 00:00:02.000\nbad\n\n00:00:05.000 --> 00:00:01.000\nbackwards\n", "broken timings"),
        ("WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nr\xe4ksm\xf6rg\xe5s\n".encode("latin-1"), "unknown encoding"),
    ],
)
def test_webvtt_that_cannot_be_read_is_a_reason_not_an_exception(data, reason):
    result = parse_webvtt(data)
    assert not result.ok and reason in result.error and not result.segments


def test_webvtt_in_utf16_with_a_byte_order_mark_is_read_and_hostile_bytes_never_raise():
    assert parse_webvtt(VTT.decode("utf-8").encode("utf-16")).segments[0].text == "Hej & välkommen"
    rng = random.Random(5)
    for _ in range(300):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(200)))
        parse_webvtt(b"WEBVTT\n\n" + blob)
        parse_webvtt(blob)
    some_good = parse_webvtt(b"WEBVTT\n\n00:00:aa --> 00:00:01.000\nbad\n\n00:00:01.000 --> 00:00:02.000\ngood\n")
    assert some_good.ok and some_good.broken_cues == 1 and some_good.text == "good"


def test_the_real_captures_offer_their_video_variants_best_first_and_never_raise(shared_fixtures):
    item = json.loads((shared_fixtures / "web" / "item_2024_fyp.json").read_text())
    item = item.get("itemStruct", item)
    offers = item_offers(item)
    video = next(o for o in offers if o.kind == "video")
    assert [o.kind for o in offers].count("cover") == 1
    variants = item["video"]["bitrateInfo"]
    best = max((v for v in variants if "264" in v["CodecType"]), key=lambda v: v["PlayAddr"]["Width"] * v["PlayAddr"]["Height"])
    assert video.urls[0] == best["PlayAddr"]["UrlList"][0] and video.sizes[0] == best["PlayAddr"]["DataSize"]
    assert url_expires(video.urls[0]) == 1727126491
    sigi = json.loads((shared_fixtures / "web" / "page_sigi_state_2023.json").read_text())
    for it in sigi["ItemModule"].values():  # `subtitleInfos: []`, a plain-string author: no captions, no error
        assert not [o for o in item_offers(it) if o.kind == "captions"]
    for hostile in (None, [], "x", {"id": "1", "video": []}, {"id": True}, {"id": "12", "video": {"bitrateInfo": [None, 3]}}):
        assert item_offers(hostile) == [] or all(o.post_id == "12" for o in item_offers(hostile))


def test_captions_slides_and_cla_captions_are_read_from_an_item():
    item = {
        "id": "7001",
        "video": {
            "cover": "https://p16-sign.tiktokcdn.com/c.jpeg",
            "playAddr": "https://v16-webapp.tiktok.com/video/tos/x/?expire=1&signature=s",
            "subtitleInfos": [
                {"Url": "https://v16.tiktokcdn.com/a.vtt", "LanguageCodeName": "swe-SE", "Source": "ASR", "Format": "webvtt"},
                {"Url": "https://v16.tiktokcdn.com/b.vtt", "LanguageCodeName": "eng-US", "Source": "MT", "Format": "webvtt"},
                {"Url": "https://v16.tiktokcdn.com/c.srt", "LanguageCodeName": "deu-DE", "Source": "MT", "Format": "srt"},
            ],
            "claInfo": {
                "captionInfos": [{"urlList": ["https://v16.tiktokcdn.com/d.vtt"], "language": "swe-SE", "isOriginalCaption": True}]
            },
        },
    }
    offers = item_offers(item)
    captions = [(o.seq, o.language, o.source, o.urls[0][-5:]) for o in offers if o.kind == "captions"]
    assert captions == [(1, "swe-SE", "tiktok-asr", "a.vtt"), (2, "eng-US", "tiktok-mt", "b.vtt")]  # one per language and source
    slideshow = {
        "id": "7002",
        "video": {"cover": "https://p16.tiktokcdn.com/c.jpeg", "playAddr": ""},
        "imagePost": {"images": [{"imageURL": {"urlList": [f"https://p16.tiktokcdn.com/{n}.jpeg"]}} for n in range(3)]},
    }
    assert [(o.kind, o.seq) for o in item_offers(slideshow)] == [("cover", 0), ("slide", 1), ("slide", 2), ("slide", 3)]


# -- the offline TikTok ---------------------------------------------------------------------------
@pytest.fixture
def tiktok(workspace, monkeypatch):
    monkeypatch.setattr(http_module, "BACKOFF_BASE_SECONDS", 0.01)
    with clock.frozen(T), OfflineTikTok(seed=7) as server:
        settings_module.configure(
            workspace, ms_token="tok-CANARY", requests_per_second=0, retries=1, timeout_seconds=10, **server.settings_overrides()
        )
        yield server


def _items(server, n=40):
    with httpx.Client() as client:
        home = client.get(server.base_url + "/")
        tag = server.world.hashtags["valet2026"].challenge_id
        page = client.get(
            server.base_url + "/api/challenge/item_list/",
            params={
                "aid": "1988",
                "app_name": "tiktok_web",
                "challengeID": tag,
                "count": n,
                "cursor": 0,
                "msToken": home.cookies["msToken"],
            },
        )
        return page.json()["itemList"], dict(home.cookies)


def test_the_offline_cdn_wants_the_session_cookie_and_an_unexpired_url_and_honours_range(tiktok):
    items, cookies = _items(tiktok)
    assert "tt_chain_token" in cookies
    video = next(o for it in items for o in item_offers(it) if o.kind == "video")
    url = video.urls[0]
    with httpx.Client() as anonymous:
        assert anonymous.get(url).status_code == 403  # no session
    with httpx.Client(cookies=cookies) as client:
        whole = client.get(url)
        assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
        part = client.get(url, headers={"Range": "bytes=0-99"})
        assert part.status_code == 206 and part.content == whole.content[:100]
        with clock.frozen(T + dt.timedelta(hours=7)):
            assert client.get(url).status_code == 403  # x-expires passed
    assert downloads.mp4_problem(whole.content) is None and downloads.mp4_problem(whole.content[: len(whole.content) // 2]) == "truncated"
    import av

    with av.open(io.BytesIO(whole.content)) as container:
        assert {s.type for s in container.streams} == {"video", "audio"}
        frame = next(container.decode(video=0)).to_image()
    assert frame.size == offline_media.VIDEO_SIZE


def test_the_offline_tiktok_has_slideshows_and_captions_and_a_detail_page_with_fresh_urls(tiktok):
    items, _ = _items(tiktok, 35)
    kinds = [o.kind for it in items for o in item_offers(it)]
    assert {"slide", "captions", "video", "cover"} <= set(kinds)
    captioned = next(it for it in items if any(o.kind == "captions" for o in item_offers(it)))
    offer = next(o for o in item_offers(captioned) if o.kind == "captions")
    with httpx.Client() as client:
        body = client.get(offer.urls[0]).content
        page = client.get(f"{tiktok.base_url}/@{captioned['author']['uniqueId']}/video/{captioned['id']}").content
    parsed = parse_webvtt(body)
    assert parsed.ok and parsed.text == offline_media.traits(tiktok.world.posts_by_id[captioned["id"]]).spoken[0]
    assert detail_item(page)["id"] == captioned["id"]


# -- downloads at collection time -----------------------------------------------------------------
def test_a_collection_downloads_videos_slides_and_captions_once_with_the_session_headers(tiktok, con, workspace):
    tracking.add(con, ["valet2026"])
    first = collect(con, max_posts=40)
    saved = first.media.counts()["media_saved"]
    assert saved["video"] > 10 and saved["slide"] > 0 and saved["captions"] > 0 and not first.media.failures, first.summary()
    assert "downloaded" in first.summary()
    seen = tiktok.media.seen
    assert seen and all(s["tt_chain_token"] and s["range"] == "bytes=0-" and s["referer"] == tiktok.base_url + "/" for s in seen)
    rows = dict(con.execute("SELECT kind, count(*) FROM media GROUP BY kind").fetchall())
    assert rows["video"] == saved["video"] and rows["cover"] == 40
    for (path,) in con.execute("SELECT path FROM media WHERE kind IN ('video', 'slide', 'captions')").fetchall():
        assert (workspace.media_dir / path).stat().st_size > 0
    served = dict(tiktok.media.served)
    second = collect(con, max_posts=40)
    assert tiktok.media.served == served and second.media.present == sum(saved.values())  # never downloaded again
    status = {s["kind"]: s for s in downloads.status(con)}
    assert status["video"]["downloaded"] == saved["video"] and status["video"]["pending"] == 0


def _posts_with(tiktok, n, *, slideshow=False, spoken=False):
    feed = tiktok.world.feed("valet2026", T)[:n]
    return [p.post_id for p in feed if offline_media.traits(p).slideshow == slideshow and (not spoken or offline_media.traits(p).spoken)]


def test_bad_media_are_counted_reasoned_failures_and_the_retryable_ones_succeed_next_run(tiktok, con, workspace):
    tracking.add(con, ["valet2026"])
    videos = _posts_with(tiktok, 40)
    spoken = _posts_with(tiktok, 40, spoken=True)
    bad = {videos[0]: "truncated", videos[1]: "zero", videos[2]: "html", videos[3]: "wrong_type", videos[4]: "expired"}
    bad.update({spoken[-1]: "bad_vtt", spoken[-2]: "latin1_vtt"})
    tiktok.media.bad.update(bad)
    result = collect(con, max_posts=40)
    assert result.outcomes[0].ok and result.posts == 40  # never stops a run, never loses a post
    failures = {(f.post_id, f.kind): (f.reason, f.retryable) for f in result.media.failures}
    assert failures[(videos[0], "video")] == ("truncated", True)
    assert failures[(videos[1], "video")] == ("empty file", True)
    assert failures[(videos[2], "video")] == ("HTML instead of video", True)
    assert failures[(videos[3], "video")] == ("wrong content type", False)
    assert failures[(videos[4], "video")] == ("expired", True)
    assert failures[(spoken[-1], "captions")] == ("broken captions", False)
    assert failures[(spoken[-2], "captions")] == ("broken captions", False)
    assert con.execute("SELECT count(*) FROM posts WHERE post_id IN (SELECT post_id FROM media_failures)").fetchone()[0] == 7
    status = {s["kind"]: s for s in downloads.status(con)}
    assert (
        status["video"]["expired"] == 1
        and status["video"]["failed"]["truncated"] == 1
        and status["captions"]["failed"]["broken captions"] >= 2
    )
    detail = con.execute("SELECT detail FROM media_failures WHERE reason = 'broken captions' ORDER BY detail").fetchall()
    assert any("unknown encoding" in d for (d,) in detail) and any("broken timings" in d for (d,) in detail)
    tiktok.media.bad.clear()
    again = collect(con, max_posts=40)
    retried = {r.post_id for r in again.media.records}
    assert {videos[0], videos[1], videos[2], videos[4]} <= retried and videos[3] not in retried  # retryable ones only
    left = con.execute("SELECT post_id, attempts FROM media_failures WHERE kind = 'video'").fetchall()
    assert left == [(videos[3], 1)]


def test_an_expired_url_is_refreshed_once_from_the_item_detail(tiktok, con):
    tracking.add(con, ["valet2026"])
    videos = _posts_with(tiktok, 30)
    tiktok.media.bad[videos[0]] = "expired_once"
    result = collect(con, max_posts=30)
    assert result.media.refreshed == 1 and videos[0] in {r.post_id for r in result.media.records}
    assert len(tiktok.requests_to("/@")) == 1  # one detail page asked


def test_over_the_video_size_cap_is_a_failure_not_retried_and_videos_can_be_off(tiktok, con, workspace):
    settings_module.configure(settings_module.get_settings(), video_max_bytes=1000)
    tracking.add(con, ["valet2026"])
    result = collect(con, max_posts=20)
    reasons = {f.reason for f in result.media.failures if f.kind == "video"}
    assert reasons == {"over the size cap"} and not [r for r in result.media.records if r.kind == "video"]
    assert tiktok.media.served["video"] == 0  # the DataSize said so: never fetched
    settings_module.configure(settings_module.get_settings(), video_max_bytes=100_000_000, download_videos=False)
    again = collect(con, ["klimat"], max_posts=20)
    assert not [r for r in again.media.records if r.kind == "video"] and tiktok.media.served["video"] == 0


def test_retention_removes_old_videos_once_processed_and_they_are_not_fetched_again(tiktok, con, workspace):
    tracking.add(con, ["valet2026"])
    collect(con, max_posts=20)
    con.execute("INSERT INTO video_keyframes SELECT post_id, 0, NULL, now()::TIMESTAMP FROM media WHERE kind = 'video'")
    kept = settings_module.get_settings()
    assert downloads.apply_retention(con, kept) == 0  # default: keep
    settings = kept.replace(keep_videos_days=3)
    assert downloads.apply_retention(con, settings, now=T + dt.timedelta(days=1)) == 0
    removed = downloads.apply_retention(con, settings, now=T + dt.timedelta(days=4))
    assert removed > 0 and not list((workspace.media_dir / "videos").glob("*.mp4"))
    served = tiktok.media.served["video"]
    collect(con, max_posts=20)
    assert tiktok.media.served["video"] == served
    assert {s["kind"]: s for s in downloads.status(con)}["video"]["removed"] == removed


def test_research_api_voice_to_text_is_requested_and_stored(workspace, con, monkeypatch):
    monkeypatch.setattr(http_module, "BACKOFF_BASE_SECONDS", 0.01)
    with clock.frozen(T), OfflineTikTok(seed=9, client_key="k", client_secret="s") as server:
        settings_module.configure(
            workspace, research_client_key="k", research_client_secret="s", requests_per_second=0, **server.settings_overrides()
        )
        collect(con, ["klimat"], max_posts=30, source="research")
        asked = server.requests_to("/v2/research/video/query/")[0]["query"]["fields"]
        expected = {
            p.post_id: offline_media.traits(p).spoken[0] for p in server.world.posts_by_id.values() if offline_media.traits(p).spoken
        }
    assert "voice_to_text" in asked.split(",")
    rows = con.execute("SELECT post_id, text, segments FROM transcripts WHERE source = 'research'").fetchall()
    assert rows and all(expected[pid] == text and segments is None for pid, text, segments in rows)
    assert transcripts.for_post(con, rows[0][0])[0].lines() == [rows[0][1]]


# -- the media step, search, the commands ----------------------------------------------------------
def _spoken_only_word(tiktok, con):
    """A word some collected post says (in its captions) and no caption, hashtag or image text holds."""
    said = {}
    for (pid,) in con.execute("SELECT DISTINCT post_id FROM transcripts").fetchall():
        for word in offline_media.traits(tiktok.world.posts_by_id[pid]).spoken[0].split():
            said.setdefault(word, pid)
    written = " ".join(
        r[0] or "" for r in con.execute("SELECT description FROM posts UNION ALL SELECT text FROM ocr_text").fetchall()
    ).lower()
    return next((w, pid) for w, pid in sorted(said.items()) if len(w) > 6 and w not in written)


def test_the_media_step_makes_what_is_said_and_shown_searchable_with_where_it_matched(tiktok, con, workspace):
    from tiktok_intel.search import process_media, search_text

    tracking.add(con, ["valet2026"])
    collect(con, max_posts=40)
    summary = process_media(con)
    assert summary.keyframes is not None and summary.keyframes.frames >= summary.keyframes.videos > 10, summary.summary()
    assert summary.captions.read > 0 and summary.captions.failed == 0
    assert list(summary.stage_seconds) == ["keyframes", "hashes", "ocr", "embeddings", "transcripts", "speech", "retention", "index"]
    kinds = dict(con.execute("SELECT kind, count(*) FROM image_hashes GROUP BY kind").fetchall())
    assert {"cover", "slide", "frame"} <= set(kinds) and "video" not in kinds and "captions" not in kinds
    assert process_media(con).indexed == 0  # incremental: nothing new, nothing done
    word, post_id = _spoken_only_word(tiktok, con)
    hits = search_text(con, word)
    hit = next(h for h in hits if h.post_id == post_id)
    assert [m.place for m in hit.matches] == ["speech"] and word in hit.matches[0].snippet.lower()
    assert hit.matches[0].label == f"speech {transcripts.timestamp(hit.matches[0].at_s)}"
    assert post_id in {h.post_id for h in search_text(con, word, places=["speech"])}
    assert not search_text(con, word, places=["caption", "image"])
    assert search_text(con, "valet2026", places="caption")[0].matches[0].label == "caption"
    slide = con.execute("SELECT post_id, text FROM ocr_text WHERE kind = 'slide' AND text ILIKE '%FAKTARUTA%' LIMIT 1").fetchone()
    if slide:  # Tesseract reads the slides' text
        image_hit = next(h for h in search_text(con, "faktaruta", places="image") if h.post_id == slide[0])
        assert image_hit.matches[0].label == "image text"
    frame_text = con.execute("SELECT count(*) FROM ocr_text WHERE kind = 'frame' AND text <> ''").fetchone()[0]
    assert frame_text > 0  # the words in the videos' frames
    from tiktok_intel.demo import SPOKEN_WORD, spoken_example

    sayers = con.execute("SELECT count(DISTINCT post_id) FROM transcripts WHERE text ILIKE ?", [f"%{SPOKEN_WORD}%"]).fetchone()[0]
    assert sayers and f"finds {sayers} posts, {sayers} of them only by what is said (speech " in spoken_example(con)


def test_the_commands_status_transcripts_and_search_in(tiktok, con, workspace, capsys):
    from tiktok_intel.cli import main
    from tiktok_intel.search import process_media

    tracking.add(con, ["valet2026"])
    videos = _posts_with(tiktok, 30)
    tiktok.media.bad[videos[0]] = "html"
    collect(con, max_posts=30)
    process_media(con)
    word, post_id = _spoken_only_word(tiktok, con)
    con.close()
    db = workspace.db_target
    assert main(["--db", db, "media", "--status"]) == 0
    out = capsys.readouterr().out
    assert "video" in out and "1 HTML instead of video" in out and "captions" in out and "slide" in out
    assert main(["--db", db, "transcripts", post_id]) == 0
    out = capsys.readouterr().out
    assert "tiktok-asr (swe-SE)" in out and "0:00  " in out and word in out
    assert main(["--db", db, "search", word, "--in", "speech"]) == 0
    out = capsys.readouterr().out
    assert post_id in out and "speech 0:" in out
    assert main(["--db", db, "search", word, "--in", "speech", "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found[0]["matches"][0]["place"] == "speech"
    assert main(["--db", db, "transcripts", "not-a-number"]) != 0
    assert "is not a post id" in capsys.readouterr().err


class FakeEngine:
    def __init__(self):
        self.asked = []

    def transcribe(self, path):
        self.asked.append(path.name)
        return "sv", [(0.0, 1.5, "det här sägs bara i videon"), (1.5, 3.0, "lokalt transkriberat")]


def test_local_speech_to_text_pipeline_with_a_fake_engine_for_videos_without_captions(tiktok, con, workspace):
    from tiktok_intel import speech
    from tiktok_intel.search import process_media, search_text

    tracking.add(con, ["valet2026"])
    collect(con, max_posts=20)
    assert speech.transcribe_videos(con, settings_module.get_settings()).skipped.startswith("off")
    engine = FakeEngine()
    summary = process_media(con, speech_engine=engine)
    captioned = {r[0] for r in con.execute("SELECT post_id FROM transcripts WHERE source <> 'whisper'").fetchall()}
    whispered = {r[0] for r in con.execute("SELECT post_id FROM transcripts WHERE source = 'whisper'").fetchall()}
    videos = {r[0] for r in con.execute("SELECT post_id FROM media WHERE kind = 'video'").fetchall()}
    assert whispered == videos - captioned and summary.speech.transcribed == len(whispered) > 0
    assert len(engine.asked) == len(whispered)
    assert process_media(con, speech_engine=engine).speech.transcribed == 0  # each video once
    hit = search_text(con, "transkriberat")[0]
    assert hit.post_id in whispered and hit.matches[0].label == "speech 0:01"
    audio = speech.decode_audio(workspace.media_dir / f"videos/{next(iter(videos))}.mp4")
    assert len(audio) > 16000  # PyAV decodes the audio track (no system ffmpeg)


def test_without_the_speech_extra_one_line_says_how_to_get_it(tiktok, con, monkeypatch):
    import builtins

    from tiktok_intel import speech

    real = builtins.__import__

    def no_whisper(name, *args, **kwargs):
        if name == "faster_whisper":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_whisper)
    tracking.add(con, ["valet2026"])
    collect(con, max_posts=10)
    result = speech.transcribe_videos(con, settings_module.get_settings().replace(whisper_model="tiny"))
    assert result.skipped == speech.INSTALL_HINT and "\n" not in result.skipped


@pytest.mark.model
def test_the_real_whisper_engine_where_a_model_is_present(tiktok, workspace):
    faster_whisper = pytest.importorskip("faster_whisper", reason="the speech extra is not installed (pip install 'tiktok-intel[speech]')")
    models = (
        [p for p in (workspace.workspace_path / "models").glob("*") if p.is_dir()] if (workspace.workspace_path / "models").is_dir() else []
    )
    import os

    folder = os.environ.get("WHISPER_TEST_MODEL_DIR", "")
    if not folder and not models:
        pytest.skip("no faster-whisper model on this machine (set WHISPER_TEST_MODEL_DIR to a model folder)")
    from tiktok_intel import speech

    engine = speech.WhisperEngine(settings_module.get_settings().replace(whisper_model=folder or str(models[0])))
    post = next(p for p in tiktok.world.posts_by_id.values() if not offline_media.traits(p).slideshow)
    path = workspace.workspace_path / "clip.mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(offline_media.video_mp4(post))
    language, segments = engine.transcribe(path)  # a tone: no words expected, but the engine runs end to end
    assert isinstance(language, str) and isinstance(segments, list) and faster_whisper


def test_the_content_step_downloads_and_runs_the_media_step_its_counts_in_the_runs_row(tiktok, workspace):
    from tiktok_intel.orchestration import steps
    from tiktok_intel.orchestration.runs import flow_run

    with flow_run("content", {"hashtags": ["valet2026"]}) as run:
        done = steps.content(run.workspace, max_posts=15, hashtags=["valet2026"])
        run.step("collect", done.counts, done.note)
    assert "downloaded" in done.note and "media: " in done.note and "transcripts" in done.note
    assert done.counts["media_saved"]["video"] > 0 and done.counts["media"]["transcripts"] > 0
    with run.workspace.connection(read_only=True) as con:
        recorded = json.loads(con.execute("SELECT steps FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()[0])
        indexed = con.execute("SELECT count(*) FROM search_index_docs").fetchone()[0]
    assert recorded[0]["counts"]["media"]["indexed"] == indexed > 0


def test_the_writers_half_of_a_split_content_run_fetches_the_covers_of_what_it_ingests(tiktok, workspace):
    """Work pools (docs/scaling.md): a collector fetches raw pages only; the writer's
    ``content(max_posts=0)`` ingests them and fetches their posts' covers, once."""
    from tiktok_intel.orchestration import steps
    from tiktok_intel.store import Workspace

    ws = Workspace.current()  # the offline TikTok's settings
    fetched = steps.fetch_content(ws, max_posts=20, hashtags=["klimat"])
    assert fetched.counts["posts"] == 20 and not Path(ws.db_target).exists()  # raw pages only
    done = steps.content(ws, max_posts=0, media=False)
    with ws.connection(read_only=True) as con:
        wanted = {r[0] for r in con.execute("SELECT post_id FROM posts WHERE cover_url IS NOT NULL").fetchall()}
        covers = {r[0] for r in con.execute("SELECT post_id FROM media WHERE kind = 'cover'").fetchall()}
    assert len(wanted) == 20 and covers == wanted
    assert done.counts["covers_saved"] == 20 and "20 covers" in done.note
    again = steps.content(ws, max_posts=0, media=False)  # nothing pending: nothing asked for
    assert again.counts["covers_saved"] == 0 and "covers" not in again.note
    assert steps.content(ws, max_posts=0, media=False, covers=False).counts["covers_saved"] == 0


def test_the_media_step_of_some_posts_touches_only_theirs_and_post_by_post_leaves_nothing_new(tiktok, con, workspace):
    """``process_media(posts=...)`` (how ``bench/media.py`` does the work one post at a time) reads only
    those posts' media; going through every post that way leaves nothing for a run over all."""
    from tiktok_intel.search import process_media

    tracking.add(con, ["valet2026"])
    collect(con, max_posts=12)
    posts = [r[0] for r in con.execute("SELECT DISTINCT post_id FROM media ORDER BY post_id").fetchall()]
    video = con.execute("SELECT post_id FROM media WHERE kind = 'video' ORDER BY post_id LIMIT 1").fetchone()[0]
    first = process_media(con, posts=[video])
    assert first.keyframes is not None and first.keyframes.videos == 1 and first.hashed > 1
    touched = {
        table: {r[0] for r in con.execute(f"SELECT DISTINCT post_id FROM {table}").fetchall()}
        for table in ("image_hashes", "ocr_text", "video_keyframes")
    }
    assert touched == {"image_hashes": {video}, "ocr_text": {video}, "video_keyframes": {video}}
    for post_id in posts:
        process_media(con, posts=[post_id])
    rest = process_media(con)
    assert (rest.hashed, rest.ocr.read, rest.captions.read, rest.keyframes) == (0, 0, 0, None), rest.summary()
    images = con.execute("SELECT count(*) FROM media WHERE kind IN ('cover', 'slide', 'frame')").fetchone()[0]
    assert con.execute("SELECT count(*) FROM image_hashes").fetchone()[0] == images > len(posts)
    captions = con.execute("SELECT count(DISTINCT post_id) FROM media WHERE kind = 'captions'").fetchone()[0]
    assert con.execute("SELECT count(DISTINCT post_id) FROM transcripts").fetchone()[0] == captions > 0


def test_a_speech_hits_time_links_to_the_video_and_says_where_to_go_everything_escaped():
    from tiktok_intel.dashboards.search import where_html
    from tiktok_intel.search.text import TextHit
    from tiktok_intel.search.where import Match

    url = "https://www.tiktok.com/@a/video/7300000000000000001"
    said = Match("speech", "speech 1:12", 'han sa <script>alert("x")</script>', 72.4)
    hit = TextHit("7300000000000000001", url, 1.0, "d", "a", None, None, matches=(said, Match("caption", "caption", "valet")))
    html = where_html(hit)
    link, caption = html.split('<div class="ti-where"')[1:]
    assert f'<a href="{url}" target="_blank" rel="noopener noreferrer" title="' in link and "1:12" in link.split("title=")[1]
    assert "<script>" not in html and "&lt;script&gt;" in link
    assert "<a " not in caption  # a caption has no time to go to
    assert "<a " not in where_html(TextHit("1", "", 1.0, "d", None, None, None, matches=(said,)))  # no address: no link
