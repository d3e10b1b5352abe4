//! The leaderboard: the public split before `phase_end` (each team's best scored submission),
//! the private split after it (each team's selected submissions, or its best K public ones
//! when it selected none; the best of them on the private split). The organisers' baselines
//! follow on the same split, unranked.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row;

use crate::config::{DateTime, Phase};
use crate::db::{Db, from_ms};
use crate::error::ServerError;
use crate::score::{CxrScores, SplitScores};
use crate::significance::{NextGap, adjacent_gaps};
use crate::submissions::scores;
use crate::teams::TeamKind;

/// One row of the leaderboard.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LeaderboardRow {
    /// 1 for the best; equal mIoU, equal rank.
    pub rank: u32,
    /// The team.
    pub team: String,
    /// The submission shown.
    pub submission: i64,
    /// Its scores on the phase's split: `miou` (mean of the tasks' mIoU), `miou_lower`,
    /// `miou_upper`, `hit_rate` (when maps were scored), `tasks`.
    #[serde(flatten)]
    pub scores: SplitScores,
    /// When the submission was accepted.
    pub submitted_at: DateTime,
    /// How it compares with the row below (a paired bootstrap of their per-CXR IoU on the
    /// phase's split, Holm-adjusted across the board); absent for the last row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vs_next: Option<NextGap>,
}

/// A baseline's row: scored on the phase's split like a team, never ranked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BaselineRow {
    /// The baseline's name (e.g. "Grad-CAM, Otsu" or "Human benchmark").
    pub name: String,
    /// Its newest scored submission.
    pub submission: i64,
    /// Its scores on the phase's split (`miou`, `miou_lower`, `miou_upper`, `hit_rate`, `tasks`).
    #[serde(flatten)]
    pub scores: SplitScores,
    /// When the submission was queued.
    pub submitted_at: DateTime,
}

/// The leaderboard at a time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Leaderboard {
    /// `public` before `phase_end`, `final` from then on.
    pub phase: Phase,
    /// Best first.
    pub rows: Vec<LeaderboardRow>,
    /// The organisers' baselines, best first.
    pub baselines: Vec<BaselineRow>,
}

struct Candidate {
    id: i64,
    team: String,
    public: SplitScores,
    private: SplitScores,
    selected: bool,
    submitted_at: DateTime,
}

/// Higher mIoU first, a missing one last, then the earlier submission.
fn better(a: (Option<f64>, i64), b: (Option<f64>, i64)) -> std::cmp::Ordering {
    let key = |x: Option<f64>| x.unwrap_or(f64::NEG_INFINITY);
    key(b.0).total_cmp(&key(a.0)).then(a.1.cmp(&b.1))
}

impl Db {
    /// Fills each row's `vs_next` (cached per board; the bootstrap runs off the async threads).
    async fn mark_gaps(
        &self,
        rows: &mut [LeaderboardRow],
        phase: Phase,
        seed: u32,
    ) -> Result<(), ServerError> {
        if rows.len() < 2 {
            return Ok(());
        }
        let private = phase == Phase::Final;
        let ids: Vec<i64> = rows.iter().map(|r| r.submission).collect();
        let cached = self.gaps.peek(&(private, ids.clone()));
        let gaps = match cached {
            Some(g) => g,
            None => {
                let column = if private { "private_cxr" } else { "public_cxr" };
                let mut tables = Vec::with_capacity(ids.len());
                for id in &ids {
                    let row =
                        sqlx::query(&format!("SELECT {column} FROM submissions WHERE id = $1"))
                            .bind(id)
                            .fetch_one(&self.pool)
                            .await?;
                    let text: Option<String> = row.try_get(column)?;
                    tables.push(text.and_then(|t| serde_json::from_str::<CxrScores>(&t).ok()));
                }
                let cache = self.gaps.clone();
                let key = (private, ids);
                tokio::task::spawn_blocking(move || {
                    cache.get_or(key, || adjacent_gaps(&tables, seed))
                })
                .await
                .map_err(|e| ServerError::Scorer(format!("comparing ranks: {e}")))?
            }
        };
        for (row, gap) in rows.iter_mut().zip(gaps) {
            row.vs_next = gap;
        }
        Ok(())
    }

    /// The leaderboard at `now` (no competition: an empty public one).
    pub async fn leaderboard(&self, now: DateTime) -> Result<Leaderboard, ServerError> {
        let Some(comp) = self.competition().await? else {
            return Ok(Leaderboard {
                phase: Phase::Public,
                rows: Vec::new(),
                baselines: Vec::new(),
            });
        };
        let phase = comp.phase(now);
        let rows = sqlx::query(
            "SELECT s.id, t.name AS team, t.kind, s.public_scores, s.private_scores, s.selected, \
             s.submitted_at FROM submissions s JOIN teams t ON t.id = s.team_id \
             WHERE s.status = 'scored' AND t.revoked_at IS NULL ORDER BY s.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut by_team: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
        let mut newest_baseline: BTreeMap<String, Candidate> = BTreeMap::new();
        for r in &rows {
            let team: String = r.try_get("team")?;
            let kind = TeamKind::parse(&r.try_get::<String, _>("kind")?);
            let c = Candidate {
                id: r.try_get("id")?,
                team: team.clone(),
                public: scores(r, "public_scores")?.unwrap_or_default(),
                private: scores(r, "private_scores")?.unwrap_or_default(),
                selected: r.try_get::<i64, _>("selected")? != 0,
                submitted_at: from_ms(r.try_get("submitted_at")?),
            };
            match kind {
                TeamKind::Team => by_team.entry(team).or_default().push(c),
                // Rows come by id: the last one is the newest.
                TeamKind::Baseline => {
                    newest_baseline.insert(team, c);
                }
            }
        }
        let k = comp.config.final_selections as usize;
        let mut out: Vec<(Candidate, SplitScores)> = Vec::new();
        for (_, mut cands) in by_team {
            cands.sort_by(|a, b| better((a.public.miou, a.id), (b.public.miou, b.id)));
            let chosen = match phase {
                Phase::Public => cands.into_iter().next().map(|c| {
                    let s = c.public.clone();
                    (c, s)
                }),
                Phase::Final => {
                    let any_selected = cands.iter().any(|c| c.selected);
                    let mut pool: Vec<Candidate> = if any_selected {
                        cands.into_iter().filter(|c| c.selected).collect()
                    } else {
                        cands.into_iter().take(k).collect()
                    };
                    pool.sort_by(|a, b| better((a.private.miou, a.id), (b.private.miou, b.id)));
                    pool.into_iter().next().map(|c| {
                        let s = c.private.clone();
                        (c, s)
                    })
                }
            };
            out.extend(chosen);
        }
        out.sort_by(|a, b| better((a.1.miou, a.0.id), (b.1.miou, b.0.id)));
        let mut rows = Vec::with_capacity(out.len());
        let mut rank = 0;
        let mut last: Option<Option<f64>> = None;
        for (i, (c, s)) in out.into_iter().enumerate() {
            if last != Some(s.miou) {
                rank = i as u32 + 1;
                last = Some(s.miou);
            }
            rows.push(LeaderboardRow {
                rank,
                team: c.team,
                submission: c.id,
                scores: s,
                submitted_at: c.submitted_at,
                vs_next: None,
            });
        }
        self.mark_gaps(&mut rows, phase, comp.config.seed).await?;
        let mut baselines: Vec<BaselineRow> = newest_baseline
            .into_values()
            .map(|c| BaselineRow {
                scores: match phase {
                    Phase::Public => c.public,
                    Phase::Final => c.private,
                },
                name: c.team,
                submission: c.id,
                submitted_at: c.submitted_at,
            })
            .collect();
        baselines
            .sort_by(|a, b| better((a.scores.miou, a.submission), (b.scores.miou, b.submission)));
        Ok(Leaderboard {
            phase,
            rows,
            baselines,
        })
    }
}
