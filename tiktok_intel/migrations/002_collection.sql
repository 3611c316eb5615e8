-- 002: collection. Media files downloaded for posts (covers now; key frames when enabled), and
-- whatever the collectors need to resume (cursors, Research API quota): the collection issue adds
-- those below.
CREATE TABLE IF NOT EXISTS media (
  post_id VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,          -- 'cover' | 'frame'
  seq INTEGER NOT NULL DEFAULT 0, -- frame number within the post (0 for the cover)
  path VARCHAR NOT NULL,          -- relative to the workspace's media folder; never derived from the URL path
  sha256 VARCHAR NOT NULL,
  source_url VARCHAR,             -- secrets removed
  content_type VARCHAR,
  bytes BIGINT,
  width INTEGER,
  height INTEGER,
  fetched_at TIMESTAMP NOT NULL
  -- unique on (post_id, kind, seq): kept so by the code (no constraints: DuckLake has none)
);

-- Where each collection stands, per source and hashtag: a run that stops (failure, Ctrl-C,
-- Research API quota) leaves done = FALSE and the next run resumes from cursor (and search_id /
-- window for the Research API). A finished collection sets done = TRUE; the next starts afresh.
CREATE TABLE IF NOT EXISTS collection_cursors (
  source VARCHAR NOT NULL,        -- 'web' | 'research'
  hashtag VARCHAR NOT NULL,
  run_id VARCHAR,
  cursor BIGINT NOT NULL DEFAULT 0,
  search_id VARCHAR,              -- Research API
  window_start DATE,              -- Research API: the date window being paged
  window_end DATE,
  range_end DATE,                 -- Research API: the last day the collection asked for
  pages INTEGER NOT NULL DEFAULT 0,
  posts INTEGER NOT NULL DEFAULT 0,
  max_posts INTEGER,
  done BOOLEAN NOT NULL DEFAULT FALSE,
  updated_at TIMESTAMP NOT NULL
  -- unique on (source, hashtag): kept so by the code (no constraints: DuckLake has none)
);

-- Research API use per UTC day (TikTok allows 1,000 requests and 100,000 records a day).
CREATE TABLE IF NOT EXISTS research_quota (
  day DATE NOT NULL,  -- unique: kept so by the code
  requests BIGINT NOT NULL DEFAULT 0,
  records BIGINT NOT NULL DEFAULT 0,
  updated_at TIMESTAMP NOT NULL
);
