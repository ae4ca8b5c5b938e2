//! Contact email addresses.

use validator::ValidateEmail;

use super::named::text_value;
use super::{FieldError, codes};

/// RFC 5321's limit on a forward path, so any address we keep can be mailed.
pub const EMAIL_MAX: usize = 254;

text_value! {
    /// An address we can send to: HTML-form syntax (as `validator` checks it) with a
    /// domain name that has a dot. Local part as typed, domain lower-cased.
    pub struct EmailAddress;
}

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<EmailAddress, FieldError> {
        let address = super::required_within(raw, EMAIL_MAX)?;
        let invalid = || FieldError::new(codes::EMAIL_INVALID);
        if !address.validate_email() {
            return Err(invalid());
        }
        let (local, domain) = address.rsplit_once('@').ok_or_else(invalid)?;
        // The HTML syntax allows `?`, `&`, `=`, `%` and `#` in the local part; in a `mailto:`
        // they read as URL syntax (`a?cc=x@evil.example&body=...`), and no mail system a
        // person here uses hands out such addresses. (Only these: addresses with `!` or `~`
        // stored before still parse, so their contacts can ask for their links again.)
        if local.contains(['?', '&', '=', '%', '#']) {
            return Err(invalid());
        }
        // `validator` also accepts "user@localhost" and IP literals; neither is an
        // address a person gives on a form, nor reliably deliverable.
        if domain.starts_with('[') || !domain.contains('.') {
            return Err(invalid());
        }
        Ok(EmailAddress(format!("{local}@{}", domain.to_lowercase())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::{assert_displays_and_serializes_as, assert_refused};

    #[test]
    fn url_syntax_in_the_local_part_is_refused() {
        assert_refused(
            EmailAddress::parse,
            codes::EMAIL_INVALID,
            [
                "a?cc=evil%40evil.example&body=x@example.no",
                "a&b@example.no",
                "a%40b@example.no",
                "a=b@example.no",
                "a#b@example.no",
            ],
        );
        assert!(EmailAddress::parse("kari.nordmann+rrh@example.no").is_ok());
        assert!(EmailAddress::parse("o'brien@example.no").is_ok());
    }

    #[test]
    fn keeps_local_part_and_lowercases_domain() {
        let e = EmailAddress::parse("  Ola.Nordmann+TT02@Example.NO ").unwrap();
        assert_eq!(e.as_str(), "Ola.Nordmann+TT02@example.no");
        assert_displays_and_serializes_as(&e, "Ola.Nordmann+TT02@example.no");
    }

    #[test]
    fn accepts_ordinary_and_international_domains() {
        assert!(EmailAddress::parse("opendata.rrh@brreg.no").is_ok());
        assert!(EmailAddress::parse("post@sub.domain.example.com").is_ok());
        assert_eq!(
            EmailAddress::parse("kari@Blåbær.NO").unwrap().as_str(),
            "kari@blåbær.no"
        );
    }

    #[test]
    fn empty_is_required() {
        assert_refused(EmailAddress::parse, codes::REQUIRED, ["", "  "]);
    }

    #[test]
    fn longer_than_254_characters_is_too_long() {
        let local = "a".repeat(64);
        let domain_254 = format!("{}.no", "b".repeat(254 - 64 - 1 - 3));
        let ok = format!("{local}@{domain_254}");
        assert_eq!(ok.len(), 254);
        // The length rule passes; validator may still object to a 186-char label.
        assert_ne!(
            EmailAddress::parse(&ok).err().map(|e| e.code),
            Some(codes::TOO_LONG)
        );
        assert_refused(EmailAddress::parse, codes::TOO_LONG, [format!("{ok}x")]);
    }

    #[test]
    fn local_part_over_64_is_invalid() {
        let address = format!("{}@example.com", "a".repeat(65));
        assert_refused(EmailAddress::parse, codes::EMAIL_INVALID, [address]);
    }

    #[test]
    fn bad_syntax_is_invalid() {
        assert_refused(
            EmailAddress::parse,
            codes::EMAIL_INVALID,
            [
                "plainaddress",
                "@example.com",
                "user@",
                "user@@example.com",
                "user name@example.com",
                "user@exa mple.com",
                "user@-example.com",
                "user@example..com",
                "user@.example.com",
                "\"quoted\"@example.com",
                "user@example.com\u{0}",
                "user\n@example.com",
            ],
        );
    }

    #[test]
    fn domain_must_be_an_internet_name() {
        assert_refused(
            EmailAddress::parse,
            codes::EMAIL_INVALID,
            [
                "user@localhost",
                "user@[192.0.2.1]",
                "user@[IPv6:2001:db8::1]",
            ],
        );
    }
}
