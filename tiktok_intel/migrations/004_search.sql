-- 004: search. Perceptual hashes and OCR text per image (cover or key frame), and the state of the
-- full-text index (a tantivy index under <workspace>/search/, kept in step with these tables).
CREATE TABLE IF NOT EXISTS image_hashes (
  post_id VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,          -- as in media: 'cover' | 'frame'
  seq INTEGER NOT NULL,
  media_sha256 VARCHAR NOT NULL,  -- the file that was hashed: a new download is hashed again
  phash BIGINT,                   -- 64-bit imagehash.phash, bits as a signed integer; NULL when unreadable
  dhash BIGINT,                   -- 64-bit imagehash.dhash, likewise
  error VARCHAR,                  -- why the image could not be hashed
  hashed_at TIMESTAMP NOT NULL
  -- unique on (post_id, kind, seq): kept so by the code (no constraints: DuckLake has none)
);
CREATE TABLE IF NOT EXISTS ocr_text (
  post_id VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,
  seq INTEGER NOT NULL,
  media_sha256 VARCHAR NOT NULL,
  languages VARCHAR NOT NULL,     -- Tesseract languages used, e.g. 'swe+eng'
  text VARCHAR,                   -- words found ('' when none); NULL when OCR failed
  error VARCHAR,
  ocr_at TIMESTAMP NOT NULL
  -- unique on (post_id, kind, seq): kept so by the code (no constraints: DuckLake has none)
);
CREATE TABLE IF NOT EXISTS search_index_docs (
  post_id VARCHAR NOT NULL,  -- unique: kept so by the code
  doc_hash UBIGINT NOT NULL,      -- hash of everything indexed for the post: changed hash = re-index
  indexed_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS search_index_state (
  name VARCHAR NOT NULL,          -- unique; 'index_id', 'layout', 'fingerprint'
  value VARCHAR,
  updated_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS video_keyframes (
  post_id VARCHAR NOT NULL,       -- unique: one row per post whose video was processed (or failed to be)
  frames INTEGER NOT NULL,        -- key frames kept (media rows kind 'frame', seq 1..frames)
  error VARCHAR,                  -- why no frames were taken
  processed_at TIMESTAMP NOT NULL
);
