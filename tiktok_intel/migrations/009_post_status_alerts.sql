-- 009: availability and alerts. Each recheck asks TikTok whether recent posts are still there;
-- post_status keeps the history of changes (a row when a post's status is first seen to change,
-- never one per check), post_checks the latest check of each post. Alerts remember what they said
-- (alert_state: an item alerts once per rule until its state changes) and what they sent
-- (alert_deliveries: a failed delivery is tried again on the next run and shown on the Overview).
CREATE TABLE IF NOT EXISTS post_status (
  post_id VARCHAR NOT NULL,
  checked_at TIMESTAMP NOT NULL,  -- when this status was first seen
  status VARCHAR NOT NULL,        -- available | removed | private | region_blocked | unknown
  detail VARCHAR                  -- what TikTok answered (statusCode and message, or the page's)
  -- unique on (post_id, checked_at): kept so by the code (no constraints: DuckLake has none)
);
CREATE TABLE IF NOT EXISTS post_checks (
  post_id VARCHAR NOT NULL,       -- unique: kept so by the code
  checked_at TIMESTAMP NOT NULL,  -- the latest check
  status VARCHAR NOT NULL,        -- its answer (as in post_status)
  available_at TIMESTAMP          -- the latest check that found the post available
);
CREATE TABLE IF NOT EXISTS alert_state (
  rule VARCHAR NOT NULL,          -- the rule's name in the alerts file
  item VARCHAR NOT NULL,          -- what alerted: a post id, an account, a hashtag, a group
  state VARCHAR NOT NULL,         -- the state it alerted in; the item alerts again only when it changes
  alerted_at TIMESTAMP NOT NULL
  -- unique on (rule, item): kept so by the code
);
CREATE TABLE IF NOT EXISTS alert_deliveries (
  delivery_id VARCHAR NOT NULL,   -- unique: kept so by the code
  rule VARCHAR NOT NULL,
  channel VARCHAR NOT NULL,       -- the channel's name in the alerts file
  created_at TIMESTAMP NOT NULL,
  subject VARCHAR NOT NULL,       -- the digest's one line
  body VARCHAR NOT NULL,          -- the digest (text), secrets removed
  items INTEGER NOT NULL,         -- items in the digest
  status VARCHAR NOT NULL,        -- pending | sent | failed
  attempts INTEGER NOT NULL,
  last_error VARCHAR,             -- the latest failure, one line, secrets removed
  sent_at TIMESTAMP
);
