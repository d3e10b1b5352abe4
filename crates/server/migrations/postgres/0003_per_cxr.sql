-- Each scored submission's per-CXR IoU on each split (JSON: ids, tasks, values), so the
-- leaderboard can compare adjacent ranks with a paired bootstrap.
ALTER TABLE submissions ADD COLUMN public_cxr TEXT;
ALTER TABLE submissions ADD COLUMN private_cxr TEXT;
