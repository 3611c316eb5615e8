-- 008: search by meaning. One vector per image (cover, slide or key frame) for the model in use:
-- a new file (sha256) or another model replaces it. Vectors are L2-normalised, so a dot product is
-- the cosine. FLOAT[] (a list) rather than FLOAT[512]: the dimension is the model's (column dim),
-- and DuckLake stores lists; search casts to FLOAT[dim].
CREATE TABLE IF NOT EXISTS image_embeddings (
  post_id VARCHAR NOT NULL,       -- the media row: (post_id, kind, seq)
  kind VARCHAR NOT NULL,
  seq INTEGER NOT NULL,
  media_sha256 VARCHAR NOT NULL,  -- the file that was embedded: a new download is embedded again
  model VARCHAR NOT NULL,         -- models.ModelSpec.model_id (name@revision) or local:<folder>
  dim INTEGER,                    -- length of embedding; NULL when unreadable
  embedding FLOAT[],              -- L2-normalised; NULL when the image could not be read
  error VARCHAR,                  -- why not
  embedded_at TIMESTAMP NOT NULL
  -- unique on (post_id, kind, seq): kept so by the code (no constraints: DuckLake has none)
);
