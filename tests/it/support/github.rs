//! A loopback GitHub repository-advisories API (list with paging, create, update) that keeps
//! what it is sent.

use super::loopback::{Reply, Request, Server};
use depwatch::publish::github::GithubTarget;
use depwatch::secret::Secret;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, OnceLock};

/// The token the fake API accepts.
pub const TOKEN: &str = "ghp_testTokenValue0123456789";
/// The repository-advisories path of `octo/demo`.
pub const REPO_PATH: &str = "/repos/octo/demo/security-advisories";

/// An in-memory repository-advisories API: list (two pages, Link header), POST, PATCH.
pub struct FakeGithub {
    pub server: Server,
    pub store: Arc<Mutex<Vec<Value>>>,
}

impl FakeGithub {
    pub fn start(initial: Vec<Value>) -> Self {
        let store = Arc::new(Mutex::new(initial));
        let base: Arc<OnceLock<String>> = Arc::new(OnceLock::new());
        let (store2, base2) = (store.clone(), base.clone());
        let server = Server::start(move |req: &Request| {
            if req.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
                return Reply::Ok {
                    status: 401,
                    headers: vec![],
                    body: br#"{"message":"Bad credentials"}"#.to_vec(),
                };
            }
            let mut store = store2.lock().unwrap();
            let base = base2.get().cloned().unwrap_or_default();
            match (req.method.as_str(), req.path()) {
                ("GET", REPO_PATH) => {
                    // A real server filters by state; this one does too (when asked).
                    let want_draft = req.target.contains("state=draft");
                    let all: Vec<&Value> = store
                        .iter()
                        .filter(|a| !want_draft || a["state"] == "draft")
                        .collect();
                    let half = all.len().div_ceil(2);
                    if req.target.contains("page=2") {
                        Reply::ok(serde_json::to_vec(&all[half..]).unwrap())
                    } else {
                        Reply::ok(serde_json::to_vec(&all[..half]).unwrap()).header(
                            "Link",
                            &format!(
                                "<{base}{REPO_PATH}?state=draft&per_page=100&page=2>; rel=\"next\", \
                                 <{base}{REPO_PATH}?state=draft&per_page=100&page=2>; rel=\"last\""
                            ),
                        )
                    }
                }
                ("POST", REPO_PATH) => {
                    let mut a: Value = serde_json::from_slice(&req.body).unwrap();
                    let id = format!("GHSA-test-{:04}-xxxx", store.len() + 1);
                    a["ghsa_id"] = json!(id);
                    a["html_url"] = json!(format!(
                        "https://github.com/octo/demo/security/advisories/{id}"
                    ));
                    a["state"] = json!("draft");
                    store.push(a.clone());
                    Reply::Ok {
                        status: 201,
                        headers: vec![],
                        body: serde_json::to_vec(&a).unwrap(),
                    }
                }
                ("PATCH", p) if p.starts_with(&format!("{REPO_PATH}/")) => {
                    let id = &p[REPO_PATH.len() + 1..];
                    let patch: Value = serde_json::from_slice(&req.body).unwrap();
                    let Some(a) = store.iter_mut().find(|a| a["ghsa_id"] == id) else {
                        return Reply::status(404);
                    };
                    for (k, v) in patch.as_object().unwrap() {
                        a[k] = v.clone();
                    }
                    Reply::ok(serde_json::to_vec(a).unwrap())
                }
                _ => Reply::status(404),
            }
        });
        let _ = base.set(server.url.clone());
        Self { server, store }
    }

    /// depwatch's target for this API: `octo/demo` with [`TOKEN`].
    pub fn target(&self) -> GithubTarget {
        GithubTarget {
            api_base: self.server.url.clone(),
            repo: "octo/demo".into(),
            token: Secret::new(TOKEN),
            allow_token_to_custom_base: true,
        }
    }
}
