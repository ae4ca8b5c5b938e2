//! Values that are stored and sent by name or as text.

/// An enum whose every variant has a stable name (a stored value, a form value, a catalog
/// key's last part): gives `ALL` in declaration order, `as_str`, `parse` (exactly the names,
/// nothing else), `Display`, and serialisation as the name.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $name {
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }

            pub fn parse(raw: &str) -> Option<$name> {
                Self::ALL.into_iter().find(|value| value.as_str() == raw)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

pub(crate) use named_enum;

/// A value held as the text it was checked into (an address, a number, a name): the
/// struct with a private field, so only its own `parse` makes one, plus `as_str`, `Display`
/// and serialisation as the plain string.
macro_rules! text_value {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
        #[serde(transparent)]
        $vis struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

pub(crate) use text_value;

#[cfg(test)]
mod tests {
    use crate::auth::Role;
    use crate::domain::{Action, ContactRole, OrderStatus};
    use crate::mail::MailState;

    /// Every name parses back to its value; anything else (another case, a near miss) does not.
    fn round_trips<T: Copy + PartialEq + std::fmt::Debug>(
        all: &[T],
        as_str: fn(T) -> &'static str,
        parse: fn(&str) -> Option<T>,
        refused: &[&str],
    ) {
        for value in all {
            assert_eq!(parse(as_str(*value)), Some(*value));
            assert_eq!(parse(&as_str(*value).to_uppercase()), None);
        }
        for raw in refused {
            assert_eq!(parse(raw), None, "{raw}");
        }
    }

    #[test]
    fn every_named_value_round_trips_through_its_name() {
        round_trips(
            &OrderStatus::ALL,
            OrderStatus::as_str,
            OrderStatus::parse,
            &["Received", "open"],
        );
        round_trips(&Action::ALL, Action::as_str, Action::parse, &["delete", ""]);
        round_trips(
            &ContactRole::ALL,
            ContactRole::as_str,
            ContactRole::parse,
            &["Vendor"],
        );
        round_trips(
            &MailState::ALL,
            MailState::as_str,
            MailState::parse,
            &["bounced"],
        );
        round_trips(
            &Role::ALL,
            Role::as_str,
            Role::parse,
            &["root", "case_handler"],
        );
    }
}
