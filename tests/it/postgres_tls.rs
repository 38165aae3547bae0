//! Issue 15: `sslmode=require` against a real TLS PostgreSQL server (a throwaway cluster with
//! `ssl = on` and certificates made here with the `openssl` CLI): with the operator's root
//! (`sslrootcert=PATH`) a sync and a scan round-trip over TLS; a certificate that root did not
//! sign, and a server without TLS, are refused with errors that name the store and show no
//! password.

use super::postgres::cluster;
use super::postgres::{depwatch_at, ok, scan_report, sqlite_store, sync_corpus};
use std::path::Path;
use std::process::Command;

/// Run `openssl args` in `dir`.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("this test makes its certificates with the openssl CLI (apt-get install openssl): {e}")
        });
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA `name` (`name.pem`, `name.key`) in `dir`.
fn ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-subj",
            &format!("/CN=depwatch test {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// A server certificate for 127.0.0.1 and localhost signed by CA `by` (`server.pem`,
/// `server.key`).
fn server_cert(dir: &Path, by: &str) {
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n\
         basicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{by}.pem"),
            "-CAkey",
            &format!("{by}.key"),
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

/// The user the TLS tests log in as: the server rejects it on a connection without TLS, so a
/// login that works went over TLS.
const USER: &str = "tlsonly";
const USER_PASSWORD: &str = "tls-only-secret-pw";

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn sslmode_require_with_the_operators_root_round_trips_and_other_certificates_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ca(d, "ca");
    ca(d, "other-ca");
    server_cert(d, "ca");
    let read = |f: &str| std::fs::read_to_string(d.join(f)).unwrap();
    let server = cluster::dedicated_tls(&cluster::Tls {
        cert_pem: &read("server.pem"),
        key_pem: &read("server.key"),
        hba_first: &[&format!("hostnossl all {USER} all reject")],
    });
    // The superuser's URL (plain TCP) makes the database; the TLS-only user owns it.
    let db_url = server.fresh_database();
    let db = db_url.rsplit('/').next().unwrap().to_string();
    server.execute(
        "postgres",
        &format!(
            "CREATE ROLE {USER} LOGIN PASSWORD '{USER_PASSWORD}'; \
             ALTER DATABASE {db} OWNER TO {USER}"
        ),
    );
    let port = server.base.rsplit(':').next().unwrap().to_string();
    let url = |root: &Path| {
        format!(
            "postgres://{USER}:{USER_PASSWORD}@127.0.0.1:{port}/{db}?sslmode=require&sslrootcert={}",
            root.display()
        )
    };
    let good = url(&d.join("ca.pem"));

    // Over TLS with the operator's root: a sync and a scan, equal to SQLite's.
    sync_corpus(&good);
    let sqlite = sqlite_store(d);
    sync_corpus(&sqlite);
    let from_pg = scan_report(&good);
    assert!(
        from_pg["findings"]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        "{from_pg}"
    );
    assert_eq!(from_pg, scan_report(&sqlite), "the same report over TLS");
    // libpq's `verify-full` is accepted as what depwatch's `require` does.
    let verify_full = good.replace("sslmode=require", "sslmode=verify-full");
    ok(
        &depwatch_at(&verify_full, &["db", "check"]),
        "db check, verify-full",
    );

    // A root that did not sign the server's certificate: refused, saying why, no password.
    let out = depwatch_at(&url(&d.join("other-ca.pem")), &["db", "check"]);
    assert_ne!(out.status.code(), Some(0));
    let e = stderr(&out);
    assert!(e.contains("certificate"), "{e}");
    assert!(
        e.contains(&format!("postgres://{USER}@127.0.0.1:{port}/{db}")),
        "{e}"
    );
    assert!(!e.contains(USER_PASSWORD), "the password is shown: {e}");
    // Without a root named: the system's roots, which do not hold the test CA either.
    let system = good.split("&sslrootcert").next().unwrap().to_string();
    let out = depwatch_at(&system, &["db", "check"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("certificate"), "{}", stderr(&out));
    // A root file that does not exist is named.
    let out = depwatch_at(&url(&d.join("missing.pem")), &["db", "check"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("missing.pem"), "{}", stderr(&out));
    // Without TLS the server turns the user away: the working logins above were over TLS.
    let plain = good.split('?').next().unwrap().to_string();
    let out = depwatch_at(&plain, &["db", "check"]);
    assert_ne!(out.status.code(), Some(0));
    let e = stderr(&out);
    assert!(e.contains("pg_hba.conf rejects connection"), "{e}");
    assert!(!e.contains(USER_PASSWORD), "{e}");
}

#[test]
fn sslmode_require_against_a_server_without_tls_is_refused() {
    // The shared test cluster runs without TLS.
    let server = cluster::server();
    let url = format!("{}?sslmode=require", server.fresh_database());
    let out = depwatch_at(&url, &["db", "check"]);
    assert_ne!(out.status.code(), Some(0));
    let e = stderr(&out);
    assert!(e.contains("server does not support TLS"), "{e}");
    assert!(!e.contains(cluster::PASSWORD), "the password is shown: {e}");
}
