-- 011: what posts show and say. `media.kind` now also holds 'video' (the post's video, seq 0),
-- 'slide' (a photo-mode image, seq 1..n), 'captions' (a WebVTT file TikTok publishes, seq 1..n),
-- beside 'cover' and 'frame'. A video removed by the retention setting keeps its row, with
-- `removed_at` set, so it is never downloaded again.
ALTER TABLE media ADD COLUMN removed_at TIMESTAMP;

-- The media a collected item offered (its URLs as the item gave them, secrets removed): what
-- `media --status` counts as pending until a file or a failure is recorded for it.
CREATE TABLE IF NOT EXISTS media_sources (
  post_id VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,          -- 'cover' | 'video' | 'slide' | 'captions'
  seq INTEGER NOT NULL,
  url VARCHAR,
  language VARCHAR,               -- captions: TikTok's LanguageCodeName, e.g. 'swe-SE'
  caption_source VARCHAR,         -- captions: 'tiktok-asr' | 'tiktok-mt'
  seen_at TIMESTAMP NOT NULL
  -- unique on (post_id, kind, seq): kept so by the code (no constraints: DuckLake has none)
);

-- A download that failed, with its reason; `retryable` ones are tried again by the next run that
-- sees the post (a fresh URL), the others are not (over the size cap, not a video).
CREATE TABLE IF NOT EXISTS media_failures (
  post_id VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,
  seq INTEGER NOT NULL,
  reason VARCHAR NOT NULL,        -- short, countable: 'expired', 'refused', 'truncated', 'not a video', 'over the size cap', ...
  detail VARCHAR,                 -- one line, secrets removed
  retryable BOOLEAN NOT NULL,
  attempts INTEGER NOT NULL,
  failed_at TIMESTAMP NOT NULL
  -- unique on (post_id, kind, seq): kept so by the code
);

-- What is said in a post: TikTok's own captions (automatic speech recognition or machine
-- translation), the Research API's voice_to_text, or local speech-to-text (whisper).
CREATE TABLE IF NOT EXISTS transcripts (
  post_id VARCHAR NOT NULL,
  source VARCHAR NOT NULL,        -- 'tiktok-asr' | 'tiktok-mt' | 'research' | 'whisper'
  language VARCHAR NOT NULL,      -- as the source names it ('' when unknown)
  text VARCHAR NOT NULL,          -- the segments' text joined by spaces
  segments JSON,                  -- [{"start_s": 0.0, "end_s": 2.5, "text": "..."}]; NULL when the source has no timing
  media_sha256 VARCHAR,           -- the caption file or video it came from
  fetched_at TIMESTAMP NOT NULL
  -- unique on (post_id, source, language): kept so by the code
);
