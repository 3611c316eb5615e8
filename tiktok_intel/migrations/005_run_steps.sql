-- Version 5: each run's steps (name, counts, note, seconds), as one JSON list beside its counts.
ALTER TABLE runs ADD COLUMN steps JSON;
