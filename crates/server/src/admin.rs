//! The organisers' page (`/admin`): the competition, the queue and the teams, and the export of
//! every submission as CSV. Behind the admin token of `serve --admin-token` (absent: the page
//! does not exist), sent as `Authorization: Bearer` or kept in an `HttpOnly; SameSite=Strict`
//! cookie after the form.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

use crate::pages::{esc, layout};
use crate::state::{AppState, cookie};

/// Whether the request carries the admin token (compared as SHA-256, in constant time).
fn is_admin(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(want) = state.admin_token_sha256 else {
        return false;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| cookie(headers, "admin_token"));
    given.is_some_and(|t| bool::from(crate::sha256(t).ct_eq(&want)))
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

fn login(failed: bool) -> Html<String> {
    let bad = if failed {
        "<p class=\"bad\">That token is not valid.</p>"
    } else {
        ""
    };
    Html(layout(
        "Admin",
        &format!(
            "<h1>Admin</h1>{bad}<form method=\"post\" action=\"/admin\"><label>Admin token \
             <input name=\"token\" type=\"password\" autocomplete=\"off\" required></label> \
             <button>Open</button></form>"
        ),
    ))
}

/// `GET /admin`.
pub(crate) async fn admin_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.admin_token_sha256.is_none() {
        return not_found();
    }
    if !is_admin(&state, &headers) {
        return login(false).into_response();
    }
    match admin_body(&state).await {
        Ok(body) => Html(layout("Admin", &body)).into_response(),
        Err(e) => {
            tracing::error!("{}", chexlocalize_io::chain_text(&e));
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
        }
    }
}

async fn admin_body(state: &AppState) -> Result<String, crate::ServerError> {
    let mut h = String::from("<h1>Admin</h1>");
    match state.db.competition().await? {
        Some(c) => h.push_str(&format!(
            "<p><b>{}</b>: {} CXRs on the public split, {} on the private one; phase ends {}; \
             {} submissions per team per day; {} final selections.</p>",
            esc(&c.config.name),
            c.public_cxrs,
            c.private_cxrs,
            c.config.phase_end.format("%Y-%m-%d %H:%M UTC"),
            c.config.daily_limit,
            c.config.final_selections
        )),
        None => h.push_str(
            "<p class=\"bad\">No competition: run <code>chexlocalize admin init</code>.</p>",
        ),
    }
    let st = state.db.stats().await?;
    h.push_str(&format!(
        "<p>Queue: {} waiting, {} being scored; {} finished in {:.1} s of scoring.</p>",
        st.jobs_queued, st.jobs_running, st.finished, st.scoring_seconds_total
    ));
    h.push_str("<table id=\"teams\"><thead><tr><th class=\"l\">Team</th><th>Submissions</th><th class=\"l\">Added</th><th class=\"l\">Revoked</th></tr></thead><tbody>");
    for t in state.db.teams().await? {
        h.push_str(&format!(
            "<tr><td class=\"l\">{}{}</td><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
            esc(&t.name),
            if t.kind == crate::TeamKind::Baseline {
                " (baseline)"
            } else {
                ""
            },
            t.submissions,
            t.created_at.format("%Y-%m-%d %H:%M"),
            t.revoked_at
                .map_or_else(String::new, |r| r.format("%Y-%m-%d %H:%M").to_string())
        ));
    }
    h.push_str("</tbody></table><p><a href=\"/admin/export.csv\">Every submission and its scores (CSV)</a></p>");
    Ok(h)
}

/// The login form's body.
#[derive(serde::Deserialize)]
pub(crate) struct Login {
    token: String,
}

/// `POST /admin`: keeps a valid admin token in a cookie.
pub(crate) async fn admin_login(State(state): State<AppState>, Form(l): Form<Login>) -> Response {
    if state.admin_token_sha256.is_none() {
        return not_found();
    }
    let token = l.token.trim();
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("Bearer {token}")) {
        headers.insert(header::AUTHORIZATION, v);
    }
    if !is_admin(&state, &headers) {
        return (StatusCode::UNAUTHORIZED, login(true)).into_response();
    }
    let mut r = Redirect::to("/admin").into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "admin_token={token}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=86400"
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `GET /admin/export.csv`.
pub(crate) async fn admin_export(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !is_admin(&state, &headers) {
        return not_found();
    }
    match state.db.export_csv().await {
        Ok(csv) => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response(),
        Err(e) => {
            tracing::error!("{}", chexlocalize_io::chain_text(&e));
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
        }
    }
}
