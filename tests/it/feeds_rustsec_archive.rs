//! The RustSec advisory-db archive client (`feeds::rustsec_archive`) against a loopback server
//! serving a zip built from real advisory files: read, revalidated, refused when not an
//! advisory-db.

use crate::support::clients::http;
use crate::support::loopback::{Reply, Server};
use depwatch::feeds::FeedUpdate;
use depwatch::feeds::defs::{FeedDef, FeedKind};
use depwatch::feeds::rustsec_archive;
use depwatch::store::SourceState;
use std::io::Write;
use std::path::PathBuf;
use zip::write::SimpleFileOptions;

fn sample(n: usize) -> Vec<(String, PathBuf)> {
    let root = crate::support::rustsec_dir().join("crates");
    let mut files = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for d in dirs {
        let crate_name = d.file_name().unwrap().to_string_lossy().into_owned();
        let mut inner: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        inner.sort();
        for f in inner {
            if f.extension().is_some_and(|e| e == "md") {
                files.push((crate_name.clone(), f));
            }
        }
    }
    let step = (files.len() / n).max(1);
    files.into_iter().step_by(step).take(n).collect()
}

fn build_zip(files: &[(String, PathBuf)]) -> Vec<u8> {
    let mut buf = Vec::new();
    {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(&mut buf));
        let o = SimpleFileOptions::default();
        z.start_file("advisory-db-main/README.md", o).unwrap();
        z.write_all(b"# advisory-db\n").unwrap();
        for (name, path) in files {
            let file = path.file_name().unwrap().to_string_lossy();
            z.start_file(format!("advisory-db-main/crates/{name}/{file}"), o)
                .unwrap();
            z.write_all(&std::fs::read(path).unwrap()).unwrap();
        }
        z.start_file("advisory-db-main/crates/broken/RUSTSEC-2099-0001.md", o)
            .unwrap();
        z.write_all(
            b"```toml\n[advisory]\nid = \"RUSTSEC-2099-0001\"\n```\n\n# no package, no date\n",
        )
        .unwrap();
        z.finish().unwrap();
    }
    buf
}

#[tokio::test]
async fn archive_is_read_and_revalidated() {
    let files = sample(50);
    assert_eq!(files.len(), 50);
    let body = build_zip(&files);
    let etag = "\"advisory-db-1\"";
    let server = Server::start(move |req| {
        if req.header("if-none-match") == Some(etag) {
            Reply::status(304)
        } else {
            Reply::ok(body.clone())
                .header("etag", etag)
                .header("last-modified", "Wed, 01 May 2024 00:00:00 GMT")
        }
    });
    let def = FeedDef {
        name: "rustsec".into(),
        kind: FeedKind::RustsecArchive,
        base_url: format!(
            "{}/rustsec/advisory-db/archive/refs/heads/main.zip",
            server.url
        ),
        ecosystems: vec!["crates.io".into()],
        token_env: None,
        enabled: true,
    };
    let (advisories, errors, state) =
        match rustsec_archive::pull(&http(), &def, None).await.unwrap() {
            FeedUpdate::Replace {
                advisories,
                errors,
                state,
            } => (advisories, errors, state),
            other => panic!("expected Replace, got {other:?}"),
        };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].id.as_deref(), Some("RUSTSEC-2099-0001"));
    assert!(
        errors[0]
            .file
            .ends_with("!advisory-db-main/crates/broken/RUSTSEC-2099-0001.md")
    );
    assert_eq!(advisories.len(), 50);
    let mut expected: Vec<String> = files
        .iter()
        .map(|(_, p)| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    expected.sort();
    let ids: Vec<_> = advisories.iter().map(|a| a.id.clone()).collect();
    assert_eq!(ids, expected);
    assert!(
        advisories
            .iter()
            .all(|a| a.affected[0].package.ecosystem == "crates.io")
    );
    assert_eq!(state.etag.as_deref(), Some(etag));
    assert_eq!(
        state.last_modified.as_deref(),
        Some("Wed, 01 May 2024 00:00:00 GMT")
    );

    // Second pull with the stored validators: 304, NotModified.
    let prev = SourceState {
        records: 50,
        ..state
    };
    let u = rustsec_archive::pull(&http(), &def, Some(&prev))
        .await
        .unwrap();
    assert!(matches!(u, FeedUpdate::NotModified), "{u:?}");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].header("if-none-match"), None);
    assert_eq!(reqs[1].header("if-none-match"), Some(etag));
    assert_eq!(
        reqs[1].header("if-modified-since"),
        Some("Wed, 01 May 2024 00:00:00 GMT")
    );
}

#[tokio::test]
async fn a_zip_without_advisories_is_an_error() {
    let server = Server::start(|_| Reply::ok(b"PK not really".to_vec()));
    let def = FeedDef {
        name: "rustsec".into(),
        kind: FeedKind::RustsecArchive,
        base_url: format!("{}/main.zip", server.url),
        ecosystems: vec![],
        token_env: None,
        enabled: true,
    };
    assert!(rustsec_archive::pull(&http(), &def, None).await.is_err());
}
