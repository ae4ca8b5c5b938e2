//! The binary's subcommands, run as a user would run them.

use std::process::Command;

use crate::helpers::*;

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rrh-tt02"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

#[tokio::test]
async fn migrate_creates_the_sqlite_database_with_its_tables() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nested/rrh.db");
    let output = binary()
        .arg("migrate")
        .env("DATABASE_URL", format!("sqlite:{}", file.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(file.is_file());

    let db = rrh_tt02::store::Db::connect(&format!("sqlite:{}", file.display()))
        .await
        .unwrap();
    for table in ["orders", "order_events", "mail_outbox"] {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(db.pool())
            .await
            .unwrap();
    }
    // Running it again is harmless.
    let again = binary()
        .arg("migrate")
        .env("DATABASE_URL", format!("sqlite:{}", file.display()))
        .output()
        .unwrap();
    assert!(again.status.success());
}

#[test]
fn a_bad_setting_stops_the_start_with_a_message_naming_the_variable() {
    let output = binary()
        .arg("migrate")
        .env("RRH_LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("RRH_LISTEN"), "{stderr}");
}

#[test]
fn production_refuses_to_start_without_a_session_key() {
    let output = binary()
        .arg("migrate")
        .env("RRH_ENV", "production")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("RRH_SESSION_KEY"));
}

/// Runs `rrh-tt02 user ...` against `database_url` with `stdin` as standard input.
fn user_command(database_url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = binary()
        .arg("user")
        .args(args)
        .env("DATABASE_URL", database_url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_made_with_the_cli_can_log_in_change_password_and_be_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("rrh.db").display());
    let add = |email: &str, password: &str| {
        user_command(
            &url,
            &[
                "add",
                "--email",
                email,
                "--name",
                "Kari Saksbehandler",
                "--role",
                "case-handler",
            ],
            password,
        )
    };
    let short = add("kari@brreg.no", "kort\n");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
    let created = add("Kari@Brreg.no", "et langt nok passord\n");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(String::from_utf8_lossy(&created.stdout).contains("kari@brreg.no"));
    let twice = add("kari@brreg.no", "et langt nok passord\n");
    assert!(!twice.status.success());
    assert!(String::from_utf8_lossy(&twice.stderr).contains("exists already"));
    let bad_role = user_command(
        &url,
        &[
            "add",
            "--email",
            "x@brreg.no",
            "--name",
            "X",
            "--role",
            "root",
        ],
        "et langt nok passord\n",
    );
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("--role"));

    let app = spawn_app_with(Backend::Sqlite, &[("DATABASE_URL", url.as_str())]).await;
    let browser = app.browser();
    assert_eq!(
        browser
            .login("kari@brreg.no", "et langt nok passord")
            .await
            .status(),
        303
    );
    assert_eq!(browser.get("/admin/orders").await.status(), 200);

    let changed = user_command(
        &url,
        &["passwd", "--email", "kari@brreg.no"],
        "et nytt og langt passord\n",
    );
    assert!(
        changed.status.success(),
        "{}",
        String::from_utf8_lossy(&changed.stderr)
    );
    assert_eq!(
        browser.get("/admin/orders").await.status(),
        303,
        "a new password ends old sessions"
    );
    assert_eq!(
        browser
            .login("kari@brreg.no", "et langt nok passord")
            .await
            .status(),
        401
    );
    assert_eq!(
        browser
            .login("kari@brreg.no", "et nytt og langt passord")
            .await
            .status(),
        303
    );

    let disabled = user_command(&url, &["disable", "--email", "kari@brreg.no"], "");
    assert!(disabled.status.success());
    assert_eq!(browser.get("/admin/orders").await.status(), 303);
    assert_eq!(
        browser
            .login("kari@brreg.no", "et nytt og langt passord")
            .await
            .status(),
        401
    );
    let unknown = user_command(&url, &["disable", "--email", "nobody@brreg.no"], "");
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no account"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_removes_personal_data_from_ended_orders() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("rrh.db").display());
    let app = spawn_app_with(Backend::Sqlite, &[("DATABASE_URL", url.as_str())]).await;
    let reference = app.order(&valid_json()).await;
    let (vendor, _) = track_links(&app, &reference).await;
    post_contact_step(
        &app,
        &vendor,
        "withdrawal",
        &[("withdraw_reason", "Ikke aktuelt.")],
    )
    .await;

    let kept = binary()
        .args(["purge", "--older-than-days", "30"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        kept.status.success(),
        "{}",
        String::from_utf8_lossy(&kept.stderr)
    );
    assert!(String::from_utf8_lossy(&kept.stdout).contains("from 0 order(s)"));
    let purged = binary()
        .args(["purge", "--older-than-days", "0"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        purged.status.success(),
        "{}",
        String::from_utf8_lossy(&purged.stderr)
    );
    assert!(String::from_utf8_lossy(&purged.stdout).contains("from 1 order(s)"));
    assert_eq!(
        app.order_column(&reference, "consumer_contact_email")
            .await
            .as_deref(),
        Some("")
    );
}
