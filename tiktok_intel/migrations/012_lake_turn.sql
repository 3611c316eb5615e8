-- Writers on a DuckLake store take turns per transaction: each write transaction updates this one row
-- first, so two concurrent ones conflict and the second runs again (store/database.py, _take_turn).
-- On a DuckDB file it is created too (one schema), and never touched.
CREATE TABLE IF NOT EXISTS lake_turn (commits BIGINT NOT NULL);
INSERT INTO lake_turn SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM lake_turn);
