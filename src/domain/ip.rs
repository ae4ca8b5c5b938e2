//! The addresses a vendor calls the test APIs from (they filter by source IP).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Serialize, Serializer};

use super::{FieldError, codes};

/// At most this many distinct entries per order; a vendor calls from a few egress IPs.
pub const IP_ENTRIES_MAX: usize = 10;
/// Narrowest IPv4 prefix we allow a range to have (a /24 is 256 addresses).
pub const IPV4_PREFIX_MIN: u8 = 24;
/// Narrowest IPv6 prefix we allow (a /48 is one site's allocation).
pub const IPV6_PREFIX_MIN: u8 = 48;

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    // Evaluated at compile time in the consts below, so a bad prefix fails the build.
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

const fn v6(segments: [u16; 8], prefix: u8) -> Ipv6Net {
    let [a, b, c, d, e, f, g, h] = segments;
    Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, e, f, g, h), prefix)
}

/// IPv4 blocks that are not public unicast (IANA special-purpose registry, multicast,
/// reserved). An order's range may not touch any of them.
const V4_NOT_PUBLIC: &[Ipv4Net] = &[
    v4(0, 0, 0, 0, 8),       // "this network"
    v4(10, 0, 0, 0, 8),      // private
    v4(100, 64, 0, 0, 10),   // CGNAT shared address space
    v4(127, 0, 0, 0, 8),     // loopback
    v4(169, 254, 0, 0, 16),  // link-local
    v4(172, 16, 0, 0, 12),   // private
    v4(192, 0, 0, 0, 24),    // IETF protocol assignments
    v4(192, 0, 2, 0, 24),    // TEST-NET-1
    v4(192, 88, 99, 0, 24),  // deprecated 6to4 relay anycast
    v4(192, 168, 0, 0, 16),  // private
    v4(198, 18, 0, 0, 15),   // benchmarking
    v4(198, 51, 100, 0, 24), // TEST-NET-2
    v4(203, 0, 113, 0, 24),  // TEST-NET-3
    v4(224, 0, 0, 0, 4),     // multicast
    v4(240, 0, 0, 0, 4),     // reserved, incl. limited broadcast
];

/// IPv6 blocks that are not public unicast. Most lie outside 2000::/3 and are caught by
/// that rule too; they are listed so the list reads as the registry does.
const V6_NOT_PUBLIC: &[Ipv6Net] = &[
    v6([0, 0, 0, 0, 0, 0, 0, 0], 128),         // unspecified
    v6([0, 0, 0, 0, 0, 0, 0, 1], 128),         // loopback
    v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96),     // IPv4-mapped
    v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96),  // NAT64 well-known prefix
    v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64),      // discard-only
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23),     // IETF protocol assignments, incl. Teredo
    v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), // documentation
    v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16),     // 6to4
    v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),     // documentation (RFC 9637)
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),      // unique local
    v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),     // link-local
    v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),      // multicast
];

/// Only global unicast space is public; everything else in IPv6 is reserved or special.
const V6_GLOBAL_UNICAST: Ipv6Net = v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3);

/// One public unicast address or CIDR range, no wider than /24 (IPv4) or /48 (IPv6).
/// A single address is held as a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpRange(IpNet);

impl IpRange {
    pub fn parse(raw: &str) -> Result<IpRange, FieldError> {
        let entry = super::required(raw)?;
        let net = if entry.contains('/') {
            entry.parse::<IpNet>().ok()
        } else {
            entry.parse::<IpAddr>().ok().map(IpNet::from)
        }
        .ok_or_else(|| FieldError::with_value(codes::IP_INVALID, entry))?;

        // "203.0.114.5/24" is ambiguous: one address or its /24? Ask rather than guess.
        if net.addr() != net.network() {
            return Err(FieldError::with_value(codes::IP_HOST_BITS, entry));
        }
        let too_wide = match net {
            IpNet::V4(n) => n.prefix_len() < IPV4_PREFIX_MIN,
            IpNet::V6(n) => n.prefix_len() < IPV6_PREFIX_MIN,
        };
        if too_wide {
            return Err(FieldError::with_value(codes::IP_RANGE_TOO_WIDE, entry));
        }
        if !is_public(net) {
            return Err(FieldError::with_value(codes::IP_NOT_PUBLIC, entry));
        }
        Ok(IpRange(net))
    }

    pub fn net(&self) -> IpNet {
        self.0
    }

    pub fn is_single_address(&self) -> bool {
        self.0.prefix_len() == self.0.max_prefix_len()
    }
}

/// True when the range touches no special-purpose block. Two CIDR blocks overlap exactly
/// when one contains the other's network address.
fn is_public(net: IpNet) -> bool {
    match net {
        IpNet::V4(n) => !V4_NOT_PUBLIC
            .iter()
            .any(|b| b.contains(&n.network()) || n.contains(&b.network())),
        IpNet::V6(n) => {
            V6_GLOBAL_UNICAST.contains(&n)
                && !V6_NOT_PUBLIC
                    .iter()
                    .any(|b| b.contains(&n.network()) || n.contains(&b.network()))
        }
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_single_address() {
            write!(f, "{}", self.0.addr())
        } else {
            write!(f, "{}/{}", self.0.network(), self.0.prefix_len())
        }
    }
}

impl Serialize for IpRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The order's IP list: blank entries ignored, at least one and at most
/// [`IP_ENTRIES_MAX`] distinct ranges, duplicates dropped (first-seen order kept; they
/// do not count towards the limit). The first problem in reading order is reported.
pub fn parse_list(entries: &[String]) -> Result<Vec<IpRange>, FieldError> {
    let mut ranges: Vec<IpRange> = Vec::new();
    for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
        let range = IpRange::parse(entry)?;
        if ranges.contains(&range) {
            continue;
        }
        // Stop at the first entry over the limit, which also bounds the work per request.
        if ranges.len() == IP_ENTRIES_MAX {
            return Err(FieldError::new(codes::IP_TOO_MANY));
        }
        ranges.push(range);
    }
    if ranges.is_empty() {
        return Err(FieldError::new(codes::REQUIRED));
    }
    Ok(ranges)
}

/// Splits the form's free-text field into entries: newlines, commas, semicolons and any
/// whitespace separate; empty pieces are dropped.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::{assert_refused, serialized};

    fn shown(raw: &str) -> String {
        match IpRange::parse(raw) {
            Ok(r) => r.to_string(),
            Err(e) => panic!("{raw:?} refused: {}", e.code),
        }
    }

    /// Asserts that each entry is shown as typed.
    #[track_caller]
    fn assert_public(entries: &[&str]) {
        for entry in entries {
            assert_eq!(shown(entry), *entry, "{entry:?}");
        }
    }

    /// Asserts that each entry is refused with `code`, and that the error names the entry
    /// (trimmed), so the form can say which of the list's entries is wrong.
    #[track_caller]
    fn assert_refused_naming_it<S: AsRef<str>>(
        code: &'static str,
        entries: impl IntoIterator<Item = S>,
    ) {
        for entry in entries {
            let entry = entry.as_ref();
            let error = IpRange::parse(entry).unwrap_err();
            assert_eq!(
                error,
                FieldError::with_value(code, entry.trim()),
                "{entry:?}"
            );
        }
    }

    fn strings(entries: &[&str]) -> Vec<String> {
        entries.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn accepts_public_addresses_and_ranges() {
        for (raw, canonical) in [
            ("8.8.8.8", "8.8.8.8"),
            (" 8.8.8.8/32 ", "8.8.8.8"),
            ("1.1.1.0/24", "1.1.1.0/24"),
            ("2a00:1450:4001::/48", "2a00:1450:4001::/48"),
            ("2A00:1450:4001:0::0/64", "2a00:1450:4001::/64"),
            ("2001:4860:4860::8888", "2001:4860:4860::8888"),
            ("2001:4860:4860::8888/128", "2001:4860:4860::8888"),
        ] {
            assert_eq!(shown(raw), canonical, "{raw:?}");
        }
    }

    #[test]
    fn single_addresses_are_held_as_host_routes() {
        let r = IpRange::parse("8.8.8.8").unwrap();
        assert_eq!(r.net().prefix_len(), 32);
        assert!(r.is_single_address());
        let r = IpRange::parse("2001:4860:4860::8888").unwrap();
        assert_eq!(r.net().prefix_len(), 128);
        assert!(!IpRange::parse("1.1.1.0/24").unwrap().is_single_address());
    }

    #[test]
    fn serializes_in_canonical_form() {
        for (raw, canonical) in [("8.8.8.8/32", "8.8.8.8"), ("1.1.1.0/24", "1.1.1.0/24")] {
            assert_eq!(
                serialized(&IpRange::parse(raw).unwrap()),
                canonical,
                "{raw:?}"
            );
        }
    }

    #[test]
    fn not_an_address_is_invalid_and_names_the_entry() {
        assert_refused_naming_it(
            codes::IP_INVALID,
            [
                "example.com",
                "8.8.8",
                "8.8.8.8.8",
                "256.1.1.1",
                "010.1.1.1",
                "8.8.8.8/",
                "8.8.8.8/33",
                "8.8.8.8/-1",
                "/24",
                "2001:4860::8888::1",
                "2a00:1450:4001::/129",
                "fe80::1%eth0",
                "8.8.8.8 8.8.4.4",
                "  nope ", // named without the surrounding spaces
            ],
        );
        assert_refused(IpRange::parse, codes::REQUIRED, [" "]);
    }

    #[test]
    fn host_bits_set_is_refused() {
        assert_refused_naming_it(
            codes::IP_HOST_BITS,
            ["203.0.114.5/24", "2a00:1450:4001::1/48"],
        );
    }

    #[test]
    fn ipv4_boundary_prefixes() {
        assert_public(&["1.1.1.0/24", "1.1.1.0/25"]);
        assert_refused_naming_it(codes::IP_RANGE_TOO_WIDE, ["1.1.0.0/23", "0.0.0.0/0"]);
    }

    #[test]
    fn ipv6_boundary_prefixes() {
        assert_public(&["2a00:1450:4001::/48"]);
        assert_refused_naming_it(codes::IP_RANGE_TOO_WIDE, ["2a00:1450:4000::/47", "::/0"]);
    }

    #[test]
    fn every_non_public_ipv4_block_is_refused() {
        assert_refused_naming_it(
            codes::IP_NOT_PUBLIC,
            [
                "0.0.0.0",
                "0.1.2.3",
                "10.0.0.1",
                "10.255.255.0/24",
                "100.64.0.1",
                "100.127.255.255",
                "127.0.0.1",
                "169.254.1.1",
                "172.16.0.1",
                "172.31.255.0/24",
                "192.0.0.8",
                "192.0.2.1",
                "192.88.99.1",
                "192.168.1.0/24",
                "198.18.0.1",
                "198.19.255.255",
                "198.51.100.7",
                "203.0.113.0/24",
                "224.0.0.1",
                "239.255.255.250",
                "240.0.0.1",
                "255.255.255.255",
            ],
        );
        // The first and the last address of every block on the list.
        let ends = V4_NOT_PUBLIC
            .iter()
            .flat_map(|block| [block.network(), block.broadcast()].map(|a| a.to_string()));
        assert_refused_naming_it(codes::IP_NOT_PUBLIC, ends);
    }

    #[test]
    fn neighbours_of_non_public_ipv4_blocks_are_public() {
        assert_public(&[
            "1.0.0.0",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.0/24",
            "192.0.3.0/24",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "198.51.101.0/24",
            "203.0.112.0/24",
            "203.0.114.0/24",
            "223.255.255.0/24",
        ]);
    }

    #[test]
    fn every_non_public_ipv6_block_is_refused() {
        assert_refused_naming_it(
            codes::IP_NOT_PUBLIC,
            [
                "::",
                "::1",
                "::ffff:8.8.8.8",
                "::8.8.8.8",
                "64:ff9b::808:808",
                "100::1",
                "2001::1",
                "2001:0:4136:e378:8000:63bf:3fff:fdd2",
                "2001:1ff:ffff::/48",
                "2001:db8::1",
                "2001:db8:1::/48",
                "2002:c000:204::1",
                "3fff::1",
                "fc00::1",
                "fd12:3456:789a::/48",
                "fe80::1",
                "ff02::1",
                "4000::1",
                "e000::/48",
            ],
        );
        // The first address of every block on the list.
        let firsts = V6_NOT_PUBLIC
            .iter()
            .map(|block| block.network().to_string());
        assert_refused_naming_it(codes::IP_NOT_PUBLIC, firsts);
    }

    #[test]
    fn neighbours_of_non_public_ipv6_blocks_are_public() {
        assert_public(&[
            "2001:200::1",
            "2001:db7:ffff::/48",
            "2001:db9::/48",
            "2003::1",
            "2c0f:f248::1",
            "3fff:1000::1",
        ]);
    }

    #[test]
    fn list_ignores_blanks_and_drops_duplicates_in_order() {
        let list = parse_list(&strings(&[
            "",
            " 8.8.8.8 ",
            "1.1.1.0/24",
            "  ",
            "8.8.8.8/32",
            "2a00:1450:4001::/48",
            "1.1.1.0/24",
        ]))
        .unwrap();
        let shown: Vec<String> = list.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["8.8.8.8", "1.1.1.0/24", "2a00:1450:4001::/48"]);
    }

    #[test]
    fn empty_list_is_required() {
        assert_eq!(parse_list(&[]).unwrap_err().code, codes::REQUIRED);
        assert_eq!(
            parse_list(&strings(&["", "  "])).unwrap_err().code,
            codes::REQUIRED
        );
    }

    #[test]
    fn ten_entries_are_allowed_eleven_are_too_many() {
        let ten: Vec<String> = (1..=10).map(|i| format!("8.8.8.{i}")).collect();
        assert_eq!(parse_list(&ten).unwrap().len(), 10);

        let mut with_duplicate = ten.clone();
        with_duplicate.push("8.8.8.1".into());
        assert_eq!(parse_list(&with_duplicate).unwrap().len(), 10);

        let mut eleven = ten;
        eleven.push("8.8.8.11".into());
        assert_eq!(
            parse_list(&eleven).unwrap_err(),
            FieldError::new(codes::IP_TOO_MANY)
        );
    }

    #[test]
    fn list_reports_the_first_bad_entry() {
        let e = parse_list(&strings(&["8.8.8.8", "10.0.0.1", "nope"])).unwrap_err();
        assert_eq!(e, FieldError::with_value(codes::IP_NOT_PUBLIC, "10.0.0.1"));
    }

    #[test]
    fn split_list_accepts_the_usual_separators() {
        assert_eq!(
            split_list(
                "8.8.8.8\r\n1.1.1.0/24, 2a00:1450:4001::/48;9.9.9.9 \t 149.112.112.112\n\n,;"
            ),
            [
                "8.8.8.8",
                "1.1.1.0/24",
                "2a00:1450:4001::/48",
                "9.9.9.9",
                "149.112.112.112"
            ]
        );
        assert!(split_list("  \n , ; ").is_empty());
    }
}
