-- Baselines: rows the organisers add (their Grad-CAM/Otsu result, the human benchmark), shown on
-- the leaderboard beside the teams, never ranked, with no usable token ('' matches no SHA-256).
ALTER TABLE teams ADD COLUMN kind TEXT NOT NULL DEFAULT 'team';
