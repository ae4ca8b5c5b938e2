//! Case-handler accounts: roles, password hashing and the login throttle's policy.
//! Argon2id is deliberately slow, so hashing runs on the blocking pool, never on the async
//! threads that serve requests.

use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

crate::domain::named::named_enum! {
    /// What an account may do. Admins may do everything a case handler may, and see the outbox.
    pub enum Role {
        CaseHandler = "case-handler",
        Admin = "admin",
    }
}

/// A new secret token (contacts' links, sessions, the form's CSRF seed): 256 random bits,
/// hex, so it survives any mail client and URL. Only its hash is ever stored.
pub fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Shortest password accepted by `user add` / `user passwd`.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Login attempts allowed per account in a window; a successful login starts it over.
pub const ATTEMPTS_PER_ACCOUNT: i64 = 5;
/// Higher per client address: colleagues behind one office address must not lock each
/// other out, while one address guessing at many accounts is still stopped.
pub const ATTEMPTS_PER_ADDRESS: i64 = 20;
/// The window the attempts are counted in.
pub const ATTEMPT_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Argon2 checks running at once. Each takes 19 MiB and a core's worth of time, so a flood of
/// logins queues here instead of exhausting memory.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// OWASP's recommended Argon2id parameters: 19 MiB, two passes, one lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn check_password_rules(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    Ok(())
}

/// Hashes on the blocking pool and returns the PHC string.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    let _permit = HASHING.acquire().await?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
    })
    .await?
}

/// A hash of a random password that nobody knows: verified against when the account does not
/// exist, so a login for an unknown address takes as long as one for a known address.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3HtuulDvNEwmWmWQXRVsUTaBZq1BsiPN9jqvXyYJbqY";

/// True when `password` matches `hash` (or, with no hash, after the same work as a check).
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    let Ok(_permit) = HASHING.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let matches = PasswordHash::new(&hash)
            .map(|parsed| {
                argon2()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        known && matches
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hashed_password_verifies_and_another_does_not() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery".into(), Some(hash.clone())).await);
        assert!(!verify_password("correct horse batterY".into(), Some(hash)).await);
        assert!(!verify_password("anything".into(), None).await);
    }

    #[test]
    fn the_dummy_hash_is_well_formed_so_unknown_accounts_cost_a_full_check() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
