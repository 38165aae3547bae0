//! `depwatch serve`: the HTTP API on the binary's tokio runtime. CI jobs submit a project's
//! manifests (or a CycloneDX SBOM) and get the `scan --format json` report back; the
//! submission is one project step of a run ([`crate::run::submit`]). Read routes show the
//! projects, their open findings, the status and Prometheus metrics.
//!
//! No SQL here: the store is reached through the application layer (`run`, `status`) and the
//! store traits (tokens). Blocking work (SQLite, parsing) runs on the blocking pool, one whole
//! submission per call.
//!
//! Access: a submission needs its project's submit token (`Authorization: Bearer`); reads
//! need a read token (header, or the `depwatch_token` cookie) or come from loopback. Bodies,
//! parts and their count are bounded; every token has a rate limit.

// A handler's error is the answer it sends: a `Response`, made once per refused request, so
// boxing it would only add an allocation.
#![allow(clippy::result_large_err)]

pub mod auth;
mod dashboard;
mod metrics;
mod stores;
mod uploads;

use crate::config::Project;
use crate::run::RunOptions;
use crate::store::TokenRow;
use auth::RateLimiter;
use axum::Router;
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequest, MatchedPath, Path, Request, State,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// Bounds of what a client may send.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body, bytes.
    pub max_body: usize,
    /// Largest uploaded file, bytes.
    pub max_part: usize,
    /// Most files in one submission.
    pub max_parts: usize,
    /// Requests per second per token, on average.
    pub rate_per_second: f64,
    /// Requests per token at once.
    pub rate_burst: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body: 16 << 20,
            max_part: 8 << 20,
            max_parts: 32,
            rate_per_second: 10.0,
            rate_burst: 20,
        }
    }
}

/// What the server serves.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The run's settings: config (projects, policies, channels), store, output directory.
    pub run: RunOptions,
    /// Bounds.
    pub limits: Limits,
}

/// Errors that stop the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listening socket.
    #[error("listening on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("serving: {0}")]
    Serve(std::io::Error),
    /// The signal handlers.
    #[error("signal handler: {0}")]
    Signal(std::io::Error),
    /// The private directory for uploads could not be made.
    #[error("the upload directory: {0}")]
    Uploads(std::io::Error),
    /// The draft and notes templates did not load.
    #[error(transparent)]
    Templates(#[from] crate::publish::templates::TemplateError),
}

struct AppState {
    opts: ServeOptions,
    /// Loaded once: parsing them per submission was a tenth of its time.
    templates: crate::publish::templates::Templates,
    stores: stores::Stores,
    uploads: uploads::Uploads,
    rate: RateLimiter,
    /// One submission at a time per project: two at once would diff against the same memory.
    locks: HashMap<String, Arc<tokio::sync::Mutex<()>>>,
    requests: metrics::Requests,
}

type Shared = Arc<AppState>;

/// Bind `addr` (port 0: any free port); the bound address is the listener's `local_addr`.
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, ServeError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })
}

/// Serve on `listener` until SIGTERM or SIGINT; requests in flight are finished first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    opts: ServeOptions,
) -> Result<(), ServeError> {
    let shutdown = shutdown_signal()?;
    let app = router(opts)?;
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(ServeError::Serve)
}

#[cfg(unix)]
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, ServeError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(ServeError::Signal)?;
    let mut int = signal(SignalKind::interrupt()).map_err(ServeError::Signal)?;
    Ok(async move {
        let which = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = which, "shutting down after the requests in flight");
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, ServeError> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

fn router(opts: ServeOptions) -> Result<Router, ServeError> {
    let locks = opts
        .run
        .config
        .projects
        .iter()
        .map(|p| (p.name.clone(), Arc::default()))
        .collect();
    let limits = opts.limits.clone();
    let templates =
        crate::publish::templates::Templates::load(opts.run.config.templates.as_deref())?;
    // As many idle stores as blocking calls that commonly run at once.
    let stores = stores::Stores::new(opts.run.store.clone(), 16);
    let uploads = uploads::Uploads::new(opts.run.config.projects.iter().map(|p| p.name.as_str()))
        .map_err(ServeError::Uploads)?;
    let state: Shared = Arc::new(AppState {
        rate: RateLimiter::new(limits.rate_per_second, limits.rate_burst),
        templates,
        stores,
        uploads,
        opts,
        locks,
        requests: metrics::Requests::default(),
    });
    Ok(Router::new()
        .route(
            "/api/v1/projects/{name}/scan",
            post(submit).layer(DefaultBodyLimit::max(limits.max_body)),
        )
        .route("/api/v1/projects", get(projects))
        .route("/api/v1/projects/{name}/findings", get(findings))
        .route("/api/v1/status", get(status))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/", get(dashboard::overview))
        .route("/index.html", get(dashboard::overview))
        .route("/projects/{page}", get(dashboard::project))
        .route("/projects/drafts/{file}", get(dashboard::draft))
        .route("/login", get(dashboard::login_form).post(dashboard::login))
        .route("/metrics", get(metrics_route))
        .layer(axum::middleware::from_fn_with_state(state.clone(), timed))
        .with_state(state))
}

/// Count each request's duration by its route (the template, never the raw path).
async fn timed(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let start = Instant::now();
    let resp = next.run(req).await;
    st.requests
        .observe(&route, resp.status().as_u16(), start.elapsed());
    resp
}

/// An error answer: a status and a JSON `{"error": ...}` naming what was wrong.
fn fail(status: StatusCode, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "error": message.into() });
    (status, axum::Json(body)).into_response()
}

fn internal(what: &str, e: impl std::fmt::Display) -> Response {
    // The detail (paths, SQL) goes to the log, not to the client.
    tracing::error!(error = %e, "{what}");
    fail(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("internal error: {what}"),
    )
}

/// Run blocking work on the blocking pool (the one rule: [`crate::blocking::off_executor`]).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    Ok(crate::blocking::off_executor(work).await)
}

fn presented_token(headers: &HeaderMap, cookie_too: bool) -> Option<String> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v.to_str().ok()?;
        return v
            .strip_prefix("Bearer ")
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
    }
    if !cookie_too {
        return None;
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            kv.trim()
                .strip_prefix("depwatch_token=")
                .map(str::to_string)
        })
        .filter(|t| !t.is_empty())
}

async fn load_tokens(st: &Shared) -> Result<Vec<TokenRow>, Response> {
    let st = st.clone();
    blocking(move || st.stores.with_ok(|s| s.tokens()))
        .await?
        .map_err(|e| internal("reading the tokens", e))
}

fn rate_limited(st: &Shared, row: &TokenRow) -> Result<(), Response> {
    st.rate.take(row.id).map_err(|wait| {
        let mut r = fail(
            StatusCode::TOO_MANY_REQUESTS,
            format!("rate limit of this token exceeded: retry in {wait}s"),
        );
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    })
}

/// Read access to `project` (or to everything with `None`): a token that may read, else a
/// loopback peer without a token. A token that is presented must be valid, even on loopback.
/// Who is reading: everything (from loopback without a token, or with a read token) or one
/// project (with its submit token). Decided before anything is looked up, so a refused reader
/// learns nothing of what exists (which projects, which drafts).
enum Viewer {
    All,
    Project(String),
}

impl Viewer {
    fn may_see(&self, project: &str) -> bool {
        match self {
            Viewer::All => true,
            Viewer::Project(p) => p == project,
        }
    }
}

async fn viewer(st: &Shared, peer: SocketAddr, headers: &HeaderMap) -> Result<Viewer, Response> {
    match presented_token(headers, true) {
        None if peer.ip().is_loopback() => Ok(Viewer::All),
        None => Err(fail(
            StatusCode::UNAUTHORIZED,
            "a read token is required from outside this host (Authorization: Bearer, or the depwatch_token cookie)",
        )),
        Some(t) => {
            let rows = load_tokens(st).await?;
            let Some(row) = auth::find(&rows, &t) else {
                return Err(fail(StatusCode::UNAUTHORIZED, "unknown or revoked token"));
            };
            rate_limited(st, row)?;
            Ok(match row.scope {
                crate::store::TokenScope::Read => Viewer::All,
                crate::store::TokenScope::Submit => Viewer::Project(row.project.clone()),
            })
        }
    }
}

fn forbidden() -> Response {
    fail(
        StatusCode::FORBIDDEN,
        "this token may not read this resource",
    )
}

/// Reading everything (`project` None) or one project's resources.
async fn authorise_read(
    st: &Shared,
    peer: SocketAddr,
    headers: &HeaderMap,
    project: Option<&str>,
) -> Result<(), Response> {
    match (viewer(st, peer, headers).await?, project) {
        (Viewer::All, _) => Ok(()),
        (v, Some(p)) if v.may_see(p) => Ok(()),
        _ => Err(forbidden()),
    }
}

const INVALID_NAME: &str = "invalid project name: 1 to 64 of letters, digits, '.', '_', '-'";

fn project_of<'a>(st: &'a Shared, name: &str) -> Result<&'a Project, Response> {
    if !auth::valid_project_name(name) {
        return Err(fail(StatusCode::BAD_REQUEST, INVALID_NAME));
    }
    st.opts
        .run
        .config
        .projects
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| {
            fail(
                StatusCode::NOT_FOUND,
                format!("no project {name:?} in the server's config"),
            )
        })
}

/// The file an SBOM body is saved as: the CycloneDX manifest format's file name.
const SBOM_FILE: &str = "bom.cdx.json";

/// `POST /api/v1/projects/{name}/scan`.
async fn submit(
    State(st): State<Shared>,
    Path(name): Path<String>,
    headers: HeaderMap,
    req: Request,
) -> Response {
    match submit_inner(&st, &name, &headers, req).await {
        Ok(r) | Err(r) => r,
    }
}

async fn submit_inner(
    st: &Shared,
    name: &str,
    headers: &HeaderMap,
    req: Request,
) -> Result<Response, Response> {
    if !auth::valid_project_name(name) {
        return Err(fail(StatusCode::BAD_REQUEST, INVALID_NAME));
    }
    let Some(token) = presented_token(headers, false) else {
        return Err(fail(
            StatusCode::UNAUTHORIZED,
            "a submit token is required: Authorization: Bearer TOKEN (depwatch token create PROJECT)",
        ));
    };
    let rows = load_tokens(st).await?;
    let row = match auth::find(&rows, &token) {
        None => return Err(fail(StatusCode::UNAUTHORIZED, "unknown or revoked token")),
        Some(r) if !auth::may_submit(r, name) => {
            return Err(fail(
                StatusCode::FORBIDDEN,
                format!("this token may not submit for project {name:?}"),
            ));
        }
        Some(r) => r,
    };
    rate_limited(st, row)?;
    let project = project_of(st, name)?.clone();
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let limits = &st.opts.limits;
    let files = if kind.starts_with("multipart/form-data") {
        read_parts(req, limits).await?
    } else if kind.starts_with("application/vnd.cyclonedx+json")
        || kind.starts_with("application/json")
    {
        if crate::manifests::registry::by_path(std::path::Path::new(SBOM_FILE)).is_none() {
            return Err(fail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "this depwatch reads no CycloneDX SBOM yet (no manifest format for bom.cdx.json): upload the manifests and lockfiles as multipart/form-data",
            ));
        }
        let body = axum::body::to_bytes(req.into_body(), limits.max_body.min(limits.max_part))
            .await
            .map_err(|_| {
                fail(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the SBOM is larger than {} bytes", limits.max_part),
                )
            })?;
        vec![(SBOM_FILE.to_string(), body.to_vec())]
    } else {
        return Err(fail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send multipart/form-data (manifests and lockfiles) or application/vnd.cyclonedx+json (an SBOM)",
        ));
    };

    // The project's lock also guards its upload directory.
    let lock = st.locks.get(name).cloned().unwrap_or_default();
    let _held = lock.lock().await;
    let mut opts = st.opts.run.clone();
    opts.now = jiff::Timestamp::now();
    let state = st.clone();
    let dir = st.uploads.dir_of(&project.name);
    let upload = dir.clone();
    let done = blocking(move || {
        state
            .uploads
            .stage(&upload, &files)
            .map_err(|e| internal("saving the upload", e))?;
        state
            .stores
            .with(
                |store| crate::run::submit(store, &state.templates, &opts, &project, &upload),
                // A step that failed may have lost its store's connection: not kept.
                |done| done.outcome.error.is_none(),
            )
            .map_err(|e| internal("the submission failed", e))
    })
    .await??;
    let Some(report) = done.report else {
        let why = done
            .outcome
            .error
            .unwrap_or_else(|| "nothing scanned".into());
        // Error text names the upload directory: show the uploaded names only.
        let why = strip_dir(&why, &dir);
        return Err(fail(StatusCode::UNPROCESSABLE_ENTITY, why));
    };
    let json = crate::render::render(&report, crate::render::Format::Json, false);
    let json = strip_dir(&json, &dir);
    let mut resp = (StatusCode::OK, json).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // What the submission changed in the monitor, beside the report (the report is the
    // same as `scan --format json`).
    if let Ok(v) = HeaderValue::from_str(&done.outcome.events.join(",")) {
        h.insert("depwatch-events", v);
    }
    h.insert("depwatch-queued", HeaderValue::from(done.outcome.queued));
    Ok(resp)
}

/// `text` with the upload directory's path (and the separator after it) removed, so paths
/// read as the names the client uploaded.
fn strip_dir(text: &str, dir: &std::path::Path) -> String {
    let d = dir.to_string_lossy();
    text.replace(&format!("{d}{}", std::path::MAIN_SEPARATOR), "")
        .replace(d.as_ref(), ".")
}

/// Read a multipart body's files: each named by its file name (or field name), which must
/// be a manifest or lockfile name the scan knows (no directories), each bounded, and at
/// most `max_parts` of them.
async fn read_parts(req: Request, limits: &Limits) -> Result<Vec<(String, Vec<u8>)>, Response> {
    let mut form = axum::extract::Multipart::from_request(req, &())
        .await
        .map_err(|e| fail(StatusCode::BAD_REQUEST, format!("multipart body: {e}")))?;
    let mut count = 0usize;
    let mut names = std::collections::BTreeSet::new();
    let mut files = Vec::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(multipart_error(e, limits)),
        };
        count += 1;
        if count > limits.max_parts {
            return Err(fail(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("more than {} files in one submission", limits.max_parts),
            ));
        }
        let name = field
            .file_name()
            .or_else(|| field.name())
            .unwrap_or("")
            .to_string();
        check_upload_name(&name)?;
        if !names.insert(name.clone()) {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                format!("file {} uploaded twice", crate::text::shorten(&name, 80)),
            ));
        }
        let mut field = field;
        let mut body = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(c)) => {
                    if body.len() + c.len() > limits.max_part {
                        return Err(fail(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            format!("file {name} is larger than {} bytes", limits.max_part),
                        ));
                    }
                    body.extend_from_slice(&c);
                }
                Ok(None) => break,
                Err(e) => return Err(multipart_error(e, limits)),
            }
        }
        files.push((name, body));
    }
    if count == 0 {
        return Err(fail(StatusCode::BAD_REQUEST, "no file in the submission"));
    }
    Ok(files)
}

fn multipart_error(e: axum::extract::multipart::MultipartError, limits: &Limits) -> Response {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        fail(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {} bytes", limits.max_body),
        )
    } else {
        fail(
            StatusCode::BAD_REQUEST,
            format!("multipart body: {}", e.body_text()),
        )
    }
}

/// An uploaded file's name: a plain file name (no directory, no `..`) of a manifest or
/// lockfile format the scan knows.
fn check_upload_name(name: &str) -> Result<(), Response> {
    let plain = !name.is_empty()
        && name.len() <= 128
        && !name.contains(['/', '\\', '\0'])
        && name != "."
        && name != "..";
    if !plain {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            format!(
                "file name {:?} is not a plain file name",
                crate::text::shorten(name, 80)
            ),
        ));
    }
    if crate::manifests::registry::by_path(std::path::Path::new(name)).is_none() {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            format!(
                "file name {:?} is no manifest or lockfile depwatch reads ({})",
                crate::text::shorten(name, 80),
                crate::manifests::registry::names()
            ),
        ));
    }
    Ok(())
}

async fn read_status(st: &Shared) -> Result<crate::status::Status, Response> {
    let st = st.clone();
    blocking(move || {
        let config = &st.opts.run.config;
        st.stores
            .with_ok(|s| crate::status::status_of(&**s, config, &[], jiff::Timestamp::now()))
    })
    .await?
    .map_err(|e| internal("reading the status", e))
}

/// `GET /api/v1/projects`: each configured project and its open findings.
async fn projects(
    State(st): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authorise_read(&st, peer, &headers, None).await {
        return r;
    }
    let status = match read_status(&st).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let list: Vec<serde_json::Value> = st
        .opts
        .run
        .config
        .projects
        .iter()
        .map(|p| {
            let open: Vec<_> = status.open.iter().filter(|f| f.project == p.name).collect();
            serde_json::json!({
                "name": p.name,
                "open": open.len(),
                "malicious": open.iter().filter(|f| f.marker.is_some()).count(),
                "max_severity": open.iter().filter(|f| f.marker.is_none()).map(|f| f.severity).max(),
                "overdue": open.iter().filter(|f| f.overdue).count(),
            })
        })
        .collect();
    axum::Json(serde_json::json!({ "projects": list })).into_response()
}

/// `GET /api/v1/projects/{name}/findings`: its open findings, in the status order.
async fn findings(
    State(st): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    // Authorised first: a refused reader learns nothing, not even whether the project exists.
    if let Err(r) = authorise_read(&st, peer, &headers, Some(&name)).await {
        return r;
    }
    if let Err(r) = project_of(&st, &name) {
        return r;
    }
    match read_status(&st).await {
        Ok(s) => {
            let open: Vec<_> = s.open.into_iter().filter(|f| f.project == name).collect();
            axum::Json(serde_json::json!({ "project": name, "open": open })).into_response()
        }
        Err(r) => r,
    }
}

/// `GET /api/v1/status`: what `depwatch status --json` shows.
async fn status(
    State(st): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authorise_read(&st, peer, &headers, None).await {
        return r;
    }
    match read_status(&st).await {
        Ok(s) => axum::Json(s).into_response(),
        Err(r) => r,
    }
}

/// `GET /metrics`.
async fn metrics_route(
    State(st): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authorise_read(&st, peer, &headers, None).await {
        return r;
    }
    match read_status(&st).await {
        Ok(s) => {
            let names: Vec<String> = st
                .opts
                .run
                .config
                .projects
                .iter()
                .map(|p| p.name.clone())
                .collect();
            let text = metrics::render(&s, &names, &st.requests);
            let mut r = text.into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            r
        }
        Err(r) => r,
    }
}
