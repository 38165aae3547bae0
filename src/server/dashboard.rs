//! The dashboard over HTTP: the overview at `/`, a project's page at `/projects/{name}.html`,
//! its drafts at `/projects/drafts/{file}`, each rendered per request from one of the server's
//! open stores (`status::overview_page`, `status::project_page`: the same pages
//! `depwatch dashboard --out` writes). Access as for the API: from loopback, or with a token in
//! the `Authorization` header or the `depwatch_token` cookie, which `/login` sets. The pages need
//! no JavaScript; their content security policy allows none.

use super::{Shared, authorise_read, blocking, internal, viewer};
use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// Largest draft served (drafts are a few KiB; a bigger file is not one depwatch wrote).
const MAX_DRAFT: u64 = 1 << 20;

/// `GET /`: the overview.
pub(super) async fn overview(
    State(st): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authorise_read(&st, peer, &headers, None).await {
        return refused(r);
    }
    let state = st.clone();
    let page = blocking(move || {
        let config = &state.opts.run.config;
        state
            .stores
            .with_ok(|s| crate::status::overview_page(&**s, config, jiff::Timestamp::now()))
    })
    .await;
    match page {
        Ok(Ok(html)) => page_response(StatusCode::OK, html),
        Ok(Err(e)) => internal("rendering the overview", e),
        Err(r) => r,
    }
}

/// `GET /projects/{name}.html`: a project's page (404 for a name no configured project has,
/// and for any project a submit token is not for).
pub(super) async fn project(
    State(st): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(page): Path<String>,
    headers: HeaderMap,
) -> Response {
    // Who reads is decided before any lookup: a refused reader learns nothing of which
    // projects exist, and a project's token sees "not found" for every other project.
    let who = match viewer(&st, peer, &headers).await {
        Ok(v) => v,
        Err(r) => return refused(r),
    };
    let wanted = format!("projects/{page}");
    let known = st
        .opts
        .run
        .config
        .projects
        .iter()
        .any(|p| who.may_see(&p.name) && crate::dashboard::project_path(&p.name) == wanted);
    if !known {
        return not_found();
    }
    let state = st.clone();
    let html = blocking(move || {
        let (config, out) = (&state.opts.run.config, &state.opts.run.out_dir);
        state.stores.with_ok(|s| {
            crate::status::project_page(&**s, config, out, &page, jiff::Timestamp::now())
        })
    })
    .await;
    match html {
        Ok(Ok(Some(html))) => page_response(StatusCode::OK, html),
        Ok(Ok(None)) => not_found(),
        Ok(Err(e)) => internal("rendering a project page", e),
        Err(r) => r,
    }
}

/// `GET /projects/drafts/{file}`: a draft a project page links to, from the project's draft
/// directory under `--out`. Only a plain `.md` or `.json` file name that starts with a
/// configured project's name; served as text, never as a page.
pub(super) async fn draft(
    State(st): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let plain = !file.is_empty()
        && file.len() <= 200
        && !file.starts_with('.')
        && !file.contains(['/', '\\', '\0'])
        && (file.ends_with(".md") || file.ends_with(".json"));
    if !plain {
        return not_found();
    }
    // Who reads is decided before any lookup: whether a draft exists says that a project is
    // affected by an advisory, which may still be embargoed.
    let who = match viewer(&st, peer, &headers).await {
        Ok(v) => v,
        Err(r) => return refused(r),
    };
    let out = &st.opts.run.out_dir;
    // The project (one this reader may see) whose draft directory holds a regular file (not a
    // link) of that name.
    let found = st
        .opts
        .run
        .config
        .projects
        .iter()
        .filter(|p| who.may_see(&p.name) && file.starts_with(&format!("{}-", p.name)))
        .map(|p| crate::status::draft_dir(out, &p.name).join(&file))
        .find(|path| {
            std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() <= MAX_DRAFT)
        });
    let Some(path) = found else {
        return not_found();
    };
    let body = match blocking(move || crate::fsread::read_regular(&path, MAX_DRAFT)).await {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return internal("reading a draft", e),
        Err(r) => return r,
    };
    let kind = if file.ends_with(".json") {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    };
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    secure_headers(h);
    r
}

/// `GET /login`: a form that takes a token and keeps it in a cookie for the pages.
pub(super) async fn login_form() -> Response {
    page_response(StatusCode::OK, login_html(None))
}

#[derive(serde::Deserialize)]
pub(super) struct LoginForm {
    token: String,
}

/// `POST /login`: an active token is kept in the `depwatch_token` cookie (HttpOnly,
/// SameSite=Strict) and the browser goes to the overview; another answer is the form again.
pub(super) async fn login(State(st): State<Shared>, Form(form): Form<LoginForm>) -> Response {
    let token = form.token.trim().to_string();
    let rows = match super::load_tokens(&st).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Some(row) = super::auth::find(&rows, &token) else {
        return page_response(
            StatusCode::UNAUTHORIZED,
            login_html(Some("unknown or revoked token")),
        );
    };
    if let Err(r) = super::rate_limited(&st, row) {
        return r;
    }
    // A token is `dwt_` and base64url: nothing a cookie value may not hold.
    let Ok(cookie) = HeaderValue::from_str(&format!(
        "depwatch_token={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=2592000"
    )) else {
        return page_response(StatusCode::BAD_REQUEST, login_html(Some("not a token")));
    };
    let mut r = StatusCode::SEE_OTHER.into_response();
    let h = r.headers_mut();
    h.insert(header::SET_COOKIE, cookie);
    h.insert(header::LOCATION, HeaderValue::from_static("/"));
    r
}

fn login_html(error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p role=\"alert\">{}</p>", crate::text::escape_html(e)))
        .unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>depwatch: sign in</title><style>body{{font:16px/1.5 system-ui,sans-serif;\
         max-width:28rem;margin:3rem auto;padding:0 1rem}}input{{font:inherit;width:100%;\
         padding:.4rem;box-sizing:border-box}}button{{font:inherit;margin-top:.6rem}}\
         [role=alert]{{color:#b00020}}</style></head><body><h1>depwatch</h1>{error}\
         <form method=\"post\" action=\"/login\"><label for=\"token\">A read token \
         (<code>depwatch token create --read</code>), or a project's submit token for its own \
         page</label><input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" \
         required><button type=\"submit\">Show the dashboard</button></form></body></html>"
    )
}

/// An HTML answer with the pages' security headers.
fn page_response(status: StatusCode, html: String) -> Response {
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure_headers(h);
    r
}

/// No script, no frames, no sniffing: the pages show text from feeds and checkouts.
fn secure_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

fn not_found() -> Response {
    page_response(
        StatusCode::NOT_FOUND,
        "<!doctype html><title>Not found</title><p>No such page. <a href=\"/\">All projects</a></p>"
            .into(),
    )
}

/// A refused read as a page: a way to sign in instead of the API's JSON.
fn refused(api: Response) -> Response {
    match api.status() {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => page_response(
            api.status(),
            login_html(Some(if api.status() == StatusCode::FORBIDDEN {
                "this token may not read this page"
            } else {
                "sign in with a token to read the dashboard from outside this host"
            })),
        ),
        _ => api,
    }
}
