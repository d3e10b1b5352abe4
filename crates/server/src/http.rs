//! The HTTP API and pages (axum on tokio, tower-http for limits, timeouts, compression and
//! tracing). Every handler answers JSON errors as `{"error": "..."}` with the status that says
//! who is at fault; none of them reads or returns the test set's masks.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::{Value, json};
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::pages;
use crate::state::cookie;
pub use crate::state::{AppState, Metrics};
use crate::{ServerError, SubmitOutcome, Team};

/// The API and the pages, with the request limits: bodies past the competition's
/// `max_upload_bytes` are refused with 413 as soon as the limit is crossed (the rest is not read),
/// requests time out after 60 s.
pub fn router(state: AppState) -> Router {
    let max_upload_bytes = usize::try_from(state.max_upload_bytes).unwrap_or(usize::MAX);
    Router::new()
        .route(
            "/api/submissions",
            post(create_submission).get(list_submissions),
        )
        .route("/api/submissions/{id}", get(get_submission))
        .route("/api/submissions/{id}/select", post(select_submission))
        .route("/api/leaderboard", get(api_leaderboard))
        .route("/api/expected", get(api_expected))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/", get(leaderboard_page))
        .route("/format", get(format_page))
        .route("/team", get(team_page).post(team_login))
        .route("/team/logout", post(team_logout))
        .route(
            "/admin",
            get(crate::admin::admin_page).post(crate::admin::admin_login),
        )
        .route("/admin/export.csv", get(crate::admin::admin_export))
        .layer(DefaultBodyLimit::max(max_upload_bytes))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// An API error: a status, a message and, for 429, when to retry (seconds).
struct ApiError(StatusCode, String, Option<u64>);

impl ApiError {
    fn new(status: StatusCode, message: String) -> Self {
        ApiError(status, message, None)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.0, Json(json!({ "error": self.1 }))).into_response();
        if let Some(v) = self
            .2
            .and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

impl From<ServerError> for ApiError {
    fn from(e: ServerError) -> Self {
        // The server's own failures are logged, not detailed to the client.
        tracing::error!("{}", chexlocalize_io::chain_text(&e));
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error (logged on the server)".to_owned(),
        )
    }
}

/// The team of a `Bearer` token, or 401.
async fn team(state: &AppState, headers: &HeaderMap) -> Result<Team, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| cookie(headers, "team_token"));
    let unauthorized = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "expected a valid team token (Authorization: Bearer TOKEN)".to_owned(),
        )
    };
    let token = token.ok_or_else(unauthorized)?;
    let team = state
        .db
        .team_by_token(token)
        .await?
        .ok_or_else(unauthorized)?;
    state.team_rate.check(&team).map_err(|(per_minute, retry)| {
        state.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
        ApiError(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many requests for team {:?}: at most {per_minute} a minute; retry in {retry} s",
                team.name
            ),
            Some(retry),
        )
    })?;
    Ok(team)
}

/// `POST /api/submissions`: the segmentation JSON as the body, or `multipart/form-data` with a
/// `segmentations` part, an optional `maps` tar part and an optional `note`.
async fn create_submission(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    let team = team(&state, &headers).await.inspect_err(|_| {
        state.metrics.refused.fetch_add(1, Ordering::Relaxed);
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let too_large = |e: &dyn std::fmt::Display| {
        state.metrics.refused.fetch_add(1, Ordering::Relaxed);
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("upload refused: {e}"),
        )
    };
    let (segmentations, maps, note) = if content_type.starts_with("multipart/form-data") {
        let mut form = Multipart::from_request(request, &state)
            .await
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
        let (mut seg, mut maps, mut note) = (None, None, None);
        while let Some(field) = form.next_field().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large(&e.body_text())
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, e.body_text())
            }
        })? {
            let name = field.name().unwrap_or("").to_owned();
            let bytes = field.bytes().await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large(&e.body_text())
                } else {
                    ApiError::new(StatusCode::BAD_REQUEST, e.body_text())
                }
            })?;
            match name.as_str() {
                "segmentations" => seg = Some(bytes.to_vec()),
                "maps" => maps = Some(bytes.to_vec()),
                "note" => note = Some(String::from_utf8_lossy(&bytes).into_owned()),
                other => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        format!(
                            "unknown form part {:?}: expected segmentations, maps or note",
                            pages::esc(other)
                        ),
                    ));
                }
            }
        }
        let seg = seg.ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "expected a multipart part named segmentations".to_owned(),
            )
        })?;
        (seg, maps, note)
    } else {
        let body = Bytes::from_request(request, &state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large(&e.body_text())
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, e.body_text())
            }
        })?;
        (body.to_vec(), None, None)
    };
    let now = chrono::Utc::now();
    match state
        .db
        .submit(&team, segmentations, maps, note, now)
        .await?
    {
        SubmitOutcome::Accepted { id } => {
            state.metrics.uploads.fetch_add(1, Ordering::Relaxed);
            Ok((
                StatusCode::ACCEPTED,
                Json(json!({ "id": id, "status": "queued" })),
            )
                .into_response())
        }
        SubmitOutcome::DailyLimit { resets_at } => {
            state.metrics.refused.fetch_add(1, Ordering::Relaxed);
            let retry = (resets_at - now).num_seconds().max(1);
            Err(ApiError(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "daily submission limit reached; resets at {}",
                    resets_at.to_rfc3339()
                ),
                u64::try_from(retry).ok(),
            ))
        }
        SubmitOutcome::TotalLimit => {
            state.metrics.refused.fetch_add(1, Ordering::Relaxed);
            Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "total submission limit of the competition reached".to_owned(),
            ))
        }
    }
}

/// `GET /api/submissions/{id}`: one of the team's submissions.
async fn get_submission(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let team = team(&state, &headers).await?;
    let view = state.db.submission(&team, id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no submission {id} of your team"),
        )
    })?;
    Ok(Json(serde_json::to_value(view).unwrap_or(Value::Null)))
}

/// `GET /api/submissions`: the team's submissions, newest first.
async fn list_submissions(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let team = team(&state, &headers).await?;
    let views = state.db.submissions(&team).await?;
    Ok(Json(serde_json::to_value(views).unwrap_or(Value::Null)))
}

/// `POST /api/submissions/{id}/select`: a final selection.
async fn select_submission(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let team = team(&state, &headers).await?;
    state.db.select(&team, id).await.map_err(|e| match e {
        ServerError::UnknownSubmission(_) => ApiError::new(StatusCode::NOT_FOUND, e.to_string()),
        ServerError::NotSelectable { .. } | ServerError::TooManySelections { .. } => {
            ApiError::new(StatusCode::CONFLICT, e.to_string())
        }
        e => e.into(),
    })?;
    Ok(Json(json!({ "id": id, "selected": true })))
}

/// `GET /api/leaderboard`.
async fn api_leaderboard(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let board = state.db.leaderboard(chrono::Utc::now()).await?;
    Ok(Json(serde_json::to_value(board).unwrap_or(Value::Null)))
}

/// `GET /api/expected`: the test CXRs' ids and image sizes (what `submit` checks against
/// locally), never their masks.
async fn api_expected(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    team(&state, &headers).await?;
    Ok(Json(state.db.expected_sizes().await?))
}

async fn healthz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.db.queue_depth().await?;
    Ok("ok\n")
}

/// Prometheus text: queue depth, jobs running, submissions by status, scoring seconds, uploads.
async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let st = state.db.stats().await?;
    let mut text = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, lines: Vec<(String, String)>| {
        text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        for (labels, value) in lines {
            text.push_str(&format!("{name}{labels} {value}\n"));
        }
    };
    let one = |v: String| vec![(String::new(), v)];
    metric(
        "chexlocalize_queue_depth",
        "gauge",
        "Submissions waiting to be scored.",
        one(st.jobs_queued.to_string()),
    );
    metric(
        "chexlocalize_jobs_running",
        "gauge",
        "Submissions being scored.",
        one(st.jobs_running.to_string()),
    );
    metric(
        "chexlocalize_submissions",
        "gauge",
        "Submissions by status.",
        st.submissions
            .iter()
            .map(|(s, n)| (format!("{{status=\"{s}\"}}"), n.to_string()))
            .collect(),
    );
    metric(
        "chexlocalize_scoring_seconds_total",
        "counter",
        "Seconds from claim to result of the finished submissions.",
        one(st.scoring_seconds_total.to_string()),
    );
    metric(
        "chexlocalize_uploads_total",
        "counter",
        "Uploads accepted by this server process.",
        one(state.metrics.uploads.load(Ordering::Relaxed).to_string()),
    );
    metric(
        "chexlocalize_refused_total",
        "counter",
        "Uploads refused by this server process (token, size, limits).",
        one(state.metrics.refused.load(Ordering::Relaxed).to_string()),
    );
    metric(
        "chexlocalize_rate_limited_total",
        "counter",
        "Requests refused by the per-team rate limit in this server process.",
        one(state
            .metrics
            .rate_limited
            .load(Ordering::Relaxed)
            .to_string()),
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

async fn leaderboard_page(State(state): State<AppState>) -> Result<Html<String>, ApiError> {
    let board = state.db.leaderboard(chrono::Utc::now()).await?;
    let name = state
        .db
        .competition()
        .await?
        .map_or_else(|| "CheXplanation".to_owned(), |c| c.config.name);
    Ok(Html(pages::leaderboard_page(&name, &board)))
}

async fn format_page(State(state): State<AppState>) -> Result<Html<String>, ApiError> {
    let c = state.db.competition().await?;
    let (name, max) = c.map_or_else(
        || ("CheXplanation".to_owned(), 0),
        |c| (c.config.name, c.config.max_upload_bytes),
    );
    Ok(Html(pages::format_page(&name, max)))
}

async fn team_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Html<String>, ApiError> {
    match team(&state, &headers).await {
        Ok(t) => {
            let subs = state.db.submissions(&t).await?;
            Ok(Html(pages::team_page(&t, &subs)))
        }
        Err(_) => Ok(Html(pages::login_page())),
    }
}

/// The login form's body.
#[derive(serde::Deserialize)]
struct Login {
    token: String,
}

/// Keeps a valid token in an `HttpOnly; SameSite=Strict` cookie.
async fn team_login(State(state): State<AppState>, Form(login): Form<Login>) -> Response {
    match state.db.team_by_token(login.token.trim()).await {
        Ok(Some(_)) => {
            let mut r = Redirect::to("/team").into_response();
            let cookie = format!(
                "team_token={}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000",
                login.token.trim()
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Ok(None) => (StatusCode::UNAUTHORIZED, Html(pages::login_page_failed())).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn team_logout() -> Response {
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("team_token=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    r
}
