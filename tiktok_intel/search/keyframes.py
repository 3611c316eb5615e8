"""Key frames: of every video downloaded at collection time (:func:`keyframes_from_downloads`, in
the media step), and, optionally (``TIKTOK_INTEL_KEYFRAMES=true``), of posts whose video was not
downloaded then (:func:`extract_keyframes`, below).

For each post with a ``video_url`` and no key frames yet, the video is downloaded from an allowed
host (``media_hosts``, at most ``media_max_bytes``), cut into scenes with PySceneDetect
(``scenedetect-headless``: the plain ``scenedetect`` pulls GUI OpenCV), and the middle frame of
each scene is saved as ``media/frames/<post_id>/<n>.jpg`` and recorded in ``media`` as kind
``'frame'``; :func:`tiktok_intel.search.process_media` then hashes and OCRs them like covers.
The video is deleted afterwards unless ``keep_videos`` is set.

The detector's default threshold (27) missed every cut of a synthetic test video here; we use
:data:`THRESHOLD`, which found them, and never keep more than :data:`MAX_FRAMES` per video.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from pathlib import Path

import duckdb

from .. import clock
from ..progress import progress
from ..settings import get_settings
from ..store.database import of_posts, release
from .errors import SearchError
from .fetch import download

log = logging.getLogger("tiktok_intel.search")

THRESHOLD = 12.0
MIN_SCENE_FRAMES = 8
MAX_FRAMES = 20


@dataclasses.dataclass
class KeyframeResult:
    videos: int = 0
    frames: int = 0
    failed: int = 0
    unavailable: str | None = None

    def summary(self) -> str:
        if self.unavailable:
            return f"key frames skipped ({self.unavailable})"
        return f"{self.frames} key frames from {self.videos} videos ({self.failed} failed)"


def _frame(timecode) -> int:
    return int(timecode.frame_num if hasattr(timecode, "frame_num") else timecode.get_frames())


def scene_middles(video: Path, *, threshold: float = THRESHOLD, min_scene_len: int = MIN_SCENE_FRAMES) -> list[int]:
    """Frame numbers of the middle of each scene PySceneDetect finds (one scene: the middle of the video)."""
    from scenedetect import ContentDetector, SceneManager, open_video

    logging.getLogger("pyscenedetect").setLevel(logging.WARNING)  # "Detecting scenes..." once per video says nothing; the bar does
    stream = open_video(str(video))
    manager = SceneManager()
    manager.add_detector(ContentDetector(threshold=threshold, min_scene_len=min_scene_len))
    manager.detect_scenes(stream, show_progress=False)
    scenes = manager.get_scene_list()
    if not scenes:
        total = _frame(stream.duration) if stream.duration is not None else 1
        return [max(0, total // 2)]
    middles = [(_frame(s) + _frame(e) - 1) // 2 for s, e in scenes]
    if len(middles) > MAX_FRAMES:  # keep an even spread
        step = len(middles) / MAX_FRAMES
        middles = [middles[int(i * step)] for i in range(MAX_FRAMES)]
    return middles


def extract_frames(video: Path, out_dir: Path, **kwargs) -> list[Path]:
    """Write the middle frame of each scene of ``video`` as ``out_dir/<n>.jpg`` (n from 1)."""
    import cv2

    numbers = scene_middles(video, **kwargs)
    out_dir.mkdir(parents=True, exist_ok=True)
    capture = cv2.VideoCapture(str(video))
    paths = []
    try:
        for n, frame_no in enumerate(numbers, start=1):
            capture.set(cv2.CAP_PROP_POS_FRAMES, frame_no)
            ok, frame = capture.read()
            if not ok:
                continue
            path = out_dir / f"{n}.jpg"
            cv2.imwrite(str(path), frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
            paths.append(path)
    finally:
        capture.release()
    return paths


_PENDING = """
SELECT p.post_id, p.video_url FROM posts p
WHERE p.video_url IS NOT NULL AND p.video_url <> ''
  AND NOT EXISTS (SELECT 1 FROM video_keyframes k WHERE k.post_id = p.post_id)
  AND NOT EXISTS (SELECT 1 FROM media v WHERE v.post_id = p.post_id AND v.kind = 'video')
ORDER BY p.post_id
"""


_DOWNLOADED = """
SELECT m.post_id, m.path, m.source_url FROM media m
WHERE m.kind = 'video' AND m.removed_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM video_keyframes k WHERE k.post_id = m.post_id)
ORDER BY m.post_id
"""


def _save_frames(con: duckdb.DuckDBPyConnection, media_dir: Path, post_id: str, url: str, frames: list[Path], error: str | None) -> None:
    now = clock.now()
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM media WHERE post_id = ? AND kind = 'frame'", [post_id])
        for n, path in enumerate(frames, start=1):
            data = path.read_bytes()
            con.execute(
                """INSERT INTO media (post_id, kind, seq, path, sha256, source_url, content_type, bytes, width, height, fetched_at)
                           VALUES (?, 'frame', ?, ?, ?, ?, 'image/jpeg', ?, NULL, NULL, ?)""",
                [
                    post_id,
                    n,
                    path.relative_to(media_dir).as_posix(),
                    hashlib.sha256(data).hexdigest(),
                    (url or "").split("?")[0],
                    len(data),
                    now,
                ],
            )
        con.execute("DELETE FROM video_keyframes WHERE post_id = ?", [post_id])
        con.execute("INSERT INTO video_keyframes VALUES (?, ?, ?, ?)", [post_id, len(frames), error, now])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _cut(media_dir: Path, post_id: str, relative: str) -> tuple[list[Path], str | None]:
    try:
        return extract_frames(media_dir / relative, media_dir / "frames" / post_id), None
    except Exception as exc:  # noqa: BLE001 - a broken video must not stop the others
        return [], f"{type(exc).__name__}: {exc}"[:500]


def keyframes_from_downloads(con: duckdb.DuckDBPyConnection, *, workers: int = 2, posts: list[str] | None = None) -> KeyframeResult:
    """Key frames of the videos downloaded at collection time (``media`` kind ``'video'``) that have
    none yet (of ``posts`` when given), cut ``workers`` at a time (OpenCV and PySceneDetect release the interpreter lock)."""
    import concurrent.futures

    result = KeyframeResult()
    try:
        import cv2  # noqa: F401
        import scenedetect  # noqa: F401
    except ImportError:
        result.unavailable = "scenedetect-headless is not installed: pip install scenedetect-headless"
        return result
    media_dir = get_settings().media_dir
    todo = of_posts(con, _DOWNLOADED, (), posts)
    if not todo:
        return result
    cut = []
    release(con)  # cutting takes its time: readers of the file get in meanwhile
    with progress(total=len(todo), desc="key frames", unit="video") as bar:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = {pool.submit(_cut, media_dir, pid, rel): (pid, url) for pid, rel, url in todo}
            for future in concurrent.futures.as_completed(futures):
                cut.append((*futures[future], *future.result()))
                bar.update(1)
    for post_id, url, frames, error in cut:
        _save_frames(con, media_dir, post_id, url, frames, error)
        result.videos += error is None
        result.failed += error is not None
        result.frames += len(frames)
    return result


def extract_keyframes(con: duckdb.DuckDBPyConnection, *, limit: int | None = None, posts: list[str] | None = None) -> KeyframeResult:
    """Download, cut and keep the key frames of posts not processed yet (see the module's doc)."""
    result = KeyframeResult()
    try:
        import cv2  # noqa: F401
        import scenedetect  # noqa: F401
    except ImportError:
        result.unavailable = "scenedetect-headless is not installed: pip install scenedetect-headless"
        log.warning("%s", result.unavailable)
        return result
    settings = get_settings()
    if posts is None:
        todo = con.execute(_PENDING + (" LIMIT ?" if limit else ""), [limit] if limit else []).fetchall()
    else:
        todo = of_posts(con, _PENDING, (), posts)[: limit or None]
    media_dir = settings.media_dir
    bar = progress(total=len(todo), desc="key frames", unit="video")
    try:
        for post_id, url in todo:
            video = media_dir / "videos" / f"{post_id}.mp4"
            frames: list[Path] = []
            error = None
            try:
                if not video.is_file():
                    download(url, accept=("video/", "application/octet-stream"), dest=video)
                frames = extract_frames(video, media_dir / "frames" / post_id)
            except SearchError as exc:
                error = str(exc)
            except Exception as exc:  # noqa: BLE001 - a broken video must not stop the others
                error = f"{type(exc).__name__}: {exc}"[:500]
            finally:
                if video.exists() and not settings.keep_videos:
                    video.unlink()
            now = clock.now()
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute("DELETE FROM media WHERE post_id = ? AND kind = 'frame'", [post_id])
                for n, path in enumerate(frames, start=1):
                    data = path.read_bytes()
                    con.execute(
                        """INSERT INTO media (post_id, kind, seq, path, sha256, source_url, content_type, bytes, width, height, fetched_at)
                                   VALUES (?, 'frame', ?, ?, ?, ?, 'image/jpeg', ?, NULL, NULL, ?)""",
                        [
                            post_id,
                            n,
                            path.relative_to(media_dir).as_posix(),
                            hashlib.sha256(data).hexdigest(),
                            url.split("?")[0],
                            len(data),
                            now,
                        ],
                    )
                con.execute("DELETE FROM video_keyframes WHERE post_id = ?", [post_id])  # no INSERT OR REPLACE: DuckLake has no keys
                con.execute("INSERT INTO video_keyframes VALUES (?, ?, ?, ?)", [post_id, len(frames), error, now])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            result.videos += error is None
            result.failed += error is not None
            result.frames += len(frames)
            bar.update(1)
    finally:
        bar.close()
    if result.failed:
        log.warning("%d video(s) gave no key frames (see video_keyframes.error)", result.failed)
    return result
