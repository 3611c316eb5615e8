-- 010: near-duplicate image pairs, found incrementally by the media step (each new image against the
-- archive, multi-index hashing: tiktok_intel/search/dupindex.py), so that duplicate groups are read,
-- not recomputed over every pair. Pairs are kept up to image_pairs_state's radius on both hashes.
CREATE TABLE IF NOT EXISTS image_pairs (
  post_id_a VARCHAR NOT NULL, kind_a VARCHAR NOT NULL, seq_a INTEGER NOT NULL,
  post_id_b VARCHAR NOT NULL, kind_b VARCHAR NOT NULL, seq_b INTEGER NOT NULL,
  phash_distance INTEGER NOT NULL,
  dhash_distance INTEGER NOT NULL,
  found_at TIMESTAMP NOT NULL
);
-- which image (as hashed: media_sha256) has been matched against the archive, at which radius
CREATE TABLE IF NOT EXISTS image_pairs_matched (
  post_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, seq INTEGER NOT NULL,
  media_sha256 VARCHAR NOT NULL,
  radius INTEGER NOT NULL,
  matched_at TIMESTAMP NOT NULL
  -- unique on (post_id, kind, seq): kept so by the code (no constraints: DuckLake has none)
);
