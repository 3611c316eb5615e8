-- 007: what the desk follows besides hashtags, and what the audience says underneath (issue 17).
-- tracked_items: tracked accounts and keywords (hashtags stay in tracked_hashtags), normalised per
-- kind by tiktok_intel.tracking, history kept (a removed item is inactive, never deleted).
-- comments / comment_stats: comments and replies of posts, with snapshots of their likes and
-- replies; listings: every listing of a post under a tracked account or keyword (hashtags keep
-- feed_appearances). The three ingest tables are declared in schema.TRACKED_KINDS_TABLES, whose
-- DDL this file repeats (tests/test_comments.py checks they agree).
CREATE TABLE IF NOT EXISTS tracked_items (
  kind VARCHAR NOT NULL,          -- 'account' | 'keyword' (unique on (kind, name): kept so by the code)
  name VARCHAR NOT NULL,          -- account: the unique id, lower case, no '@'; keyword: trimmed, NFC, lower case
  active BOOLEAN NOT NULL DEFAULT TRUE,
  added_at TIMESTAMP NOT NULL,
  removed_at TIMESTAMP,
  last_collected_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS comments (
  comment_id VARCHAR NOT NULL,
  post_id VARCHAR,
  parent_id VARCHAR,
  author_id VARCHAR,
  author_unique_id VARCHAR,
  author_nickname VARCHAR,
  text VARCHAR,
  language VARCHAR,
  created_at TIMESTAMP,
  likes BIGINT,
  replies BIGINT,
  source VARCHAR,
  first_seen_at TIMESTAMP,
  last_seen_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS comment_stats (
  comment_id VARCHAR NOT NULL,
  collected_at TIMESTAMP NOT NULL,
  likes BIGINT,
  replies BIGINT
);
CREATE TABLE IF NOT EXISTS listings (
  kind VARCHAR NOT NULL,
  tracked VARCHAR NOT NULL,
  post_id VARCHAR NOT NULL,
  collected_at TIMESTAMP NOT NULL,
  rank INTEGER,
  run_id VARCHAR
);
