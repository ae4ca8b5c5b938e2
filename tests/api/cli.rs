//! The binary's subcommands, run as a user would run them.

use std::process::Command;

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
