//! Test-only helpers shared by the domain tests.

use std::fmt::{Debug, Display};

use serde::Serialize;
use serde::ser::{Error as _, Impossible, Serializer};

use super::FieldError;

/// Asserts that `parse` refuses each of `inputs` with the error code `code`. A failure names
/// the input, so one call can check a whole table of inputs that break the same rule.
#[track_caller]
pub(crate) fn assert_refused<T: Debug, S: AsRef<str>>(
    parse: impl Fn(&str) -> Result<T, FieldError>,
    code: &str,
    inputs: impl IntoIterator<Item = S>,
) {
    for input in inputs {
        let input = input.as_ref();
        match parse(input) {
            Ok(value) => panic!("{input:?} was accepted as {value:?}, expected {code}"),
            Err(e) => assert_eq!(e.code, code, "{input:?}"),
        }
    }
}

/// Asserts that `value` reads as `expected` both where it is displayed and where it is
/// serialized, as the domain's text values and names must.
#[track_caller]
pub(crate) fn assert_displays_and_serializes_as<T: Display + Serialize>(value: &T, expected: &str) {
    assert_eq!(value.to_string(), expected, "Display");
    assert_eq!(serialized(value), expected, "serialized");
}

/// What a value serializes to, for values that serialize as a plain string (all the
/// domain newtypes do). Avoids a JSON dev-dependency just to look at one string.
pub(crate) fn serialized<T: Serialize>(value: &T) -> String {
    match value.serialize(StrSerializer) {
        Ok(s) => s,
        Err(e) => panic!("not a plain string: {e}"),
    }
}

#[derive(Debug)]
pub(crate) struct NotAString(String);

impl std::fmt::Display for NotAString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotAString {}

impl serde::ser::Error for NotAString {
    fn custom<M: std::fmt::Display>(msg: M) -> Self {
        NotAString(msg.to_string())
    }
}

struct StrSerializer;

macro_rules! refuse {
    ($($name:ident($($arg:ty),*) -> $ret:ty;)*) => {
        $(fn $name(self, $(_: $arg),*) -> Result<$ret, NotAString> {
            Err(NotAString::custom(stringify!($name)))
        })*
    };
}

impl Serializer for StrSerializer {
    type Ok = String;
    type Error = NotAString;
    type SerializeSeq = Impossible<String, NotAString>;
    type SerializeTuple = Impossible<String, NotAString>;
    type SerializeTupleStruct = Impossible<String, NotAString>;
    type SerializeTupleVariant = Impossible<String, NotAString>;
    type SerializeMap = Impossible<String, NotAString>;
    type SerializeStruct = Impossible<String, NotAString>;
    type SerializeStructVariant = Impossible<String, NotAString>;

    fn serialize_str(self, v: &str) -> Result<String, NotAString> {
        Ok(v.to_owned())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, NotAString> {
        Ok(variant.to_owned())
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, NotAString> {
        value.serialize(self)
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<String, NotAString> {
        Err(NotAString::custom("some"))
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, NotAString> {
        Err(NotAString::custom("newtype variant"))
    }

    refuse! {
        serialize_bool(bool) -> String;
        serialize_i8(i8) -> String;
        serialize_i16(i16) -> String;
        serialize_i32(i32) -> String;
        serialize_i64(i64) -> String;
        serialize_u8(u8) -> String;
        serialize_u16(u16) -> String;
        serialize_u32(u32) -> String;
        serialize_u64(u64) -> String;
        serialize_f32(f32) -> String;
        serialize_f64(f64) -> String;
        serialize_char(char) -> String;
        serialize_bytes(&[u8]) -> String;
        serialize_none() -> String;
        serialize_unit() -> String;
        serialize_unit_struct(&'static str) -> String;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
}
