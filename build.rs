// `sqlx::migrate!` embeds the migration files at compile time; without this, a new migration
// file is not picked up until some Rust source changes.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
