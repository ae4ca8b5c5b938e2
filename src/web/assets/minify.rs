//! A small CSS minifier for our own stylesheet, so `static/app.css` keeps its comments and
//! layout while browsers get only what they need. It removes comments and the whitespace
//! that carries no meaning, and drops the last `;` of a block; it changes no token, so a
//! rule reads the same to the browser before and after.
//!
//! Whitespace is kept (as one space) wherever it could matter: a descendant combinator
//! (`a :hover` is not `a:hover`), around `+` and `-` (`calc(1rem + 2px)`), between values
//! (`1px solid`) and before `(` (`and (max-width: 30em)`). Strings, escapes and unquoted
//! `url(...)` are copied as they are.

/// After one of these, whitespace carries no meaning. `:` is here, not in [`DROP_BEFORE`]:
/// a space after it (`color: red`) is noise, a space before it is a descendant combinator.
const DROP_AFTER: &[char] = &['{', '}', ';', ',', '>', '(', ':'];
/// Before one of these, whitespace carries no meaning.
const DROP_BEFORE: &[char] = &['{', '}', ';', ',', '>', ')', '!'];

/// `css` without comments and needless whitespace.
pub fn minify(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut chars = css.chars().peekable();
    // Whitespace (or a comment) seen since the last character written.
    let mut space = false;
    // Whether the last characters written were copied as they are (a string, an escape, a
    // url): an escaped `\:` or `\;` is part of a name, not punctuation.
    let mut verbatim = false;
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if c == '/' && chars.peek() == Some(&'*') {
            chars.next();
            let mut star = false;
            for c in chars.by_ref() {
                if star && c == '/' {
                    break;
                }
                star = c == '*';
            }
            // A comment separates tokens as whitespace does (`1px/**/solid`).
            space = true;
            continue;
        }
        if space
            && !DROP_BEFORE.contains(&c)
            && out
                .chars()
                .next_back()
                .is_some_and(|last| verbatim || !DROP_AFTER.contains(&last))
        {
            out.push(' ');
        }
        space = false;
        verbatim = match c {
            '"' | '\'' => {
                out.push(c);
                while let Some(s) = chars.next() {
                    out.push(s);
                    if s == '\\' {
                        out.extend(chars.next());
                    } else if s == c {
                        break;
                    }
                }
                true
            }
            '\\' => {
                out.push(c);
                out.extend(chars.next());
                true
            }
            '(' if ends_with_url(&out) => {
                out.push(c);
                while chars.next_if(|c| c.is_whitespace()).is_some() {}
                // A quoted address is a string (above); an unquoted one is one token up to `)`.
                let unquoted = !matches!(chars.peek(), Some('"' | '\''));
                if unquoted {
                    // Up to the last character that is not (unescaped) whitespace.
                    let mut keep = out.len();
                    while let Some(u) = chars.next() {
                        if u == ')' {
                            break;
                        }
                        out.push(u);
                        if u == '\\' {
                            out.extend(chars.next());
                        }
                        if u == '\\' || !u.is_whitespace() {
                            keep = out.len();
                        }
                    }
                    out.truncate(keep);
                    out.push(')');
                }
                unquoted
            }
            '}' => {
                if out.ends_with(';') && !verbatim {
                    out.pop();
                }
                out.push(c);
                false
            }
            // `0.5rem` is `.5rem`: a number's leading zero, where a number starts.
            '0' if starts_a_number(&out) && {
                let mut ahead = chars.clone();
                ahead.next() == Some('.') && ahead.next().is_some_and(|d| d.is_ascii_digit())
            } =>
            {
                false
            }
            _ => {
                out.push(c);
                false
            }
        };
    }
    out
}

/// Whether a number written next after `out` starts a token: `out` ends with a separator,
/// or with a sign after one (`-` in `a-0.5` belongs to the name `a-0`, in ` -0.5` to the number).
fn starts_a_number(out: &str) -> bool {
    const BEFORE: &[char] = &[' ', ':', ',', '(', '/', '*', '+'];
    let mut back = out.chars().rev();
    match back.next() {
        None => true,
        Some('-') => back.next().is_none_or(|c| BEFORE.contains(&c)),
        Some(c) => BEFORE.contains(&c),
    }
}

/// Whether `out` ends with the function name `url` (any case), not with a longer name such
/// as `my-url`.
fn ends_with_url(out: &str) -> bool {
    let bytes = out.as_bytes();
    bytes.len() >= 3
        && bytes[bytes.len() - 3..].eq_ignore_ascii_case(b"url")
        && !bytes
            .len()
            .checked_sub(4)
            .map(|i| bytes[i])
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'\\')
}

#[cfg(test)]
mod tests {
    use super::minify;

    #[test]
    fn comments_and_whitespace_around_braces_colons_and_semicolons_go() {
        assert_eq!(
            minify(
                "/* head */\n:root {\n  --a: #fff; /* note */\n  --b: 1px;\n}\n\nbody { margin: 0; }\n"
            ),
            ":root{--a:#fff;--b:1px}body{margin:0}"
        );
    }

    #[test]
    fn a_descendant_combinator_before_a_pseudo_class_stays() {
        assert_eq!(minify("a :hover { x: y }"), "a :hover{x:y}");
        assert_eq!(minify("a:hover { x: y }"), "a:hover{x:y}");
        assert_eq!(
            minify(":is(table.a, table.b) :is(th, td) { x: y }"),
            ":is(table.a,table.b) :is(th,td){x:y}"
        );
        assert_eq!(minify(".a .b *, .c > * { x: y }"), ".a .b *,.c>*{x:y}");
    }

    #[test]
    fn spaces_that_separate_values_or_surround_plus_and_minus_stay() {
        assert_eq!(
            minify("h1 { font-size: clamp(1.75rem, 1.3rem + 1.6vw, 2.25rem); }"),
            "h1{font-size:clamp(1.75rem,1.3rem + 1.6vw,2.25rem)}"
        );
        assert_eq!(
            minify("a { left: calc( -1.25rem - 1.4375rem ); border: 1px solid var(--b); }"),
            "a{left:calc(-1.25rem - 1.4375rem);border:1px solid var(--b)}"
        );
        assert_eq!(
            minify(
                "a { background-position: calc(100% - 1.25rem) 55%, calc(100% - 0.875rem) 55%; }"
            ),
            "a{background-position:calc(100% - 1.25rem) 55%,calc(100% - .875rem) 55%}"
        );
        assert_eq!(
            minify(".checkbox + .hint, li ~ li { x: y }"),
            ".checkbox + .hint,li ~ li{x:y}"
        );
    }

    #[test]
    fn media_queries_keep_the_space_before_a_parenthesis() {
        assert_eq!(
            minify("@media screen and (max-width: 30em) {\n  .a { x: y; }\n}\n"),
            "@media screen and (max-width:30em){.a{x:y}}"
        );
    }

    #[test]
    fn a_number_loses_its_leading_zero_and_nothing_else_does() {
        assert_eq!(
            minify("a { margin: 0.5rem -0.25rem 0 0; top: calc(1rem + 0.5rem); width: 10.5px; }"),
            "a{margin:.5rem -.25rem 0 0;top:calc(1rem + .5rem);width:10.5px}"
        );
        assert_eq!(
            minify("a { x: b-0.5 0.0.5 #0.5 0 0.; y: '0.5' }"),
            "a{x:b-0.5 .0.5 #0.5 0 0.;y:'0.5'}"
        );
        assert_eq!(
            minify("a { font: 1rem/0.5 x; flex: 0 0.5; }"),
            "a{font:1rem/.5 x;flex:0 .5}"
        );
    }

    #[test]
    fn important_loses_its_space() {
        assert_eq!(
            minify("a { width: 1px !important; }"),
            "a{width:1px!important}"
        );
    }

    #[test]
    fn strings_are_copied_as_they_are() {
        assert_eq!(
            minify(r#"a::before { content: "  /* not a comment */ ; } "; list-style: "\200B"; }"#),
            r#"a::before{content:"  /* not a comment */ ; } ";list-style:"\200B"}"#
        );
        assert_eq!(
            minify(r#"a { content: 'it\'s  ;' ; font-family: "Segoe UI", x; }"#),
            r#"a{content:'it\'s  ;';font-family:"Segoe UI",x}"#
        );
    }

    #[test]
    fn a_semicolon_in_a_string_before_the_closing_brace_stays() {
        assert_eq!(minify(r#"a { content: ";" }"#), r#"a{content:";"}"#);
    }

    #[test]
    fn urls_are_copied_as_they_are() {
        assert_eq!(
            minify("a { background: url( data:image/svg+xml;utf8,/*x*/a ) no-repeat; }"),
            "a{background:url(data:image/svg+xml;utf8,/*x*/a) no-repeat}"
        );
        assert_eq!(
            minify(r#"a { background: url( "a b.svg" ); }"#),
            r#"a{background:url("a b.svg")}"#
        );
        assert_eq!(minify("a { x: my-url( 1px ); }"), "a{x:my-url(1px)}");
        assert_eq!(minify(r"a { b: url(a\ ) }"), r"a{b:url(a\ )}");
    }

    #[test]
    fn escapes_outside_strings_are_copied() {
        assert_eq!(minify(r".a\:b, .c\ d { x: y }"), r".a\:b,.c\ d{x:y}");
        assert_eq!(minify(r".c\: d, .e\; f { x: \; }"), r".c\: d,.e\; f{x:\;}");
    }

    #[test]
    fn attribute_selectors_are_kept() {
        assert_eq!(
            minify(r#"a[href^="mailto:"], .input[aria-invalid="true"]:focus-visible { x: y }"#),
            r#"a[href^="mailto:"],.input[aria-invalid="true"]:focus-visible{x:y}"#
        );
    }

    #[test]
    fn a_comment_between_two_values_still_separates_them() {
        assert_eq!(minify("a { border: 1px/**/solid; }"), "a{border:1px solid}");
        assert_eq!(
            minify("a { width: 1.5rem; /* 24 px */ }"),
            "a{width:1.5rem}"
        );
    }

    #[test]
    fn minifying_twice_changes_nothing_more() {
        let once = minify(include_str!("../../../static/app.css"));
        assert_eq!(minify(&once), once);
    }

    /// Without comments and whitespace, the source and the result are the same characters but
    /// for the dropped last `;` of each block and numbers' leading zeros: no token was changed,
    /// added or lost.
    #[test]
    fn the_stylesheet_keeps_every_token() {
        let source = include_str!("../../../static/app.css");
        let squeeze = |css: &str| -> String {
            let mut out = String::new();
            let mut rest = css;
            while let Some(start) = rest.find("/*") {
                out.push_str(&rest[..start]);
                rest = rest[start..]
                    .split_once("*/")
                    .map_or("", |(_, after)| after);
            }
            out.push_str(rest);
            // Every `0` before `.` and a digit that does not follow a digit, on both sides.
            let chars: Vec<char> = out.chars().collect();
            let without_zeros: String = (0..chars.len())
                .filter(|&i| {
                    !(chars[i] == '0'
                        && chars.get(i + 1) == Some(&'.')
                        && chars.get(i + 2).is_some_and(char::is_ascii_digit)
                        && !i.checked_sub(1).is_some_and(|p| chars[p].is_ascii_digit()))
                })
                .map(|i| chars[i])
                .collect();
            without_zeros
                .split_whitespace()
                .collect::<String>()
                .replace(";}", "}")
        };
        let minified = minify(source);
        assert_eq!(squeeze(&minified), squeeze(source));
        assert!(
            minified.len() * 10 < source.len() * 8,
            "{} of {} bytes",
            minified.len(),
            source.len()
        );
    }
}
