-- 006: raw pages that failed to ingest (whatever raised while parsing or ingesting them), so one
-- bad page never blocks the pages after it. `process` leaves them alone; `process --retry-failed`
-- tries them again; a page that goes in later leaves this list.
CREATE TABLE IF NOT EXISTS failed_pages (
  sha256 VARCHAR NOT NULL,        -- unique: kept so by the code (no constraints: DuckLake has none)
  path VARCHAR NOT NULL,
  reason VARCHAR NOT NULL,        -- the error, one line
  failed_at TIMESTAMP NOT NULL,   -- the latest failure
  attempts INTEGER NOT NULL       -- how many times it failed
);
