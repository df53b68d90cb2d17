//! Where a webhook may be sent: endpoint URLs, and the addresses no webhook may
//! reach (loopback, private and reserved ranges, cloud metadata, and IPv6 forms
//! that embed such an IPv4 address). The URL is checked when an endpoint is
//! created and its addresses again at connect time.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::FieldError;

/// Whether a webhook may never be sent to `ip`: loopback, private, link-local
/// (cloud metadata included), CGNAT, unique-local, multicast, documentation,
/// benchmarking and other reserved ranges, and IPv6 forms that embed such an IPv4
/// address (mapped, compatible, NAT64, 6to4).
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0 // "this network"
        || a == 10
        || a == 127
        || (a == 100 && (64..=127).contains(&b)) // CGNAT
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..=31).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224 // multicast, reserved, broadcast
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let embedded_v4 = |high: u16, low: u16| {
        Ipv4Addr::new((high >> 8) as u8, high as u8, (low >> 8) as u8, low as u8)
    };
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_forbidden_v4(v4);
    }
    // ISATAP (an interface id of 0:5efe or 200:5efe and an IPv4 address, under any
    // prefix): judge the IPv4 address inside.
    if (segments[4] & 0xfdff) == 0 && segments[5] == 0x5efe {
        let inside = embedded_v4(segments[6], segments[7]);
        if is_forbidden_v4(inside) {
            return true;
        }
    }
    match segments {
        // Unspecified, loopback and the deprecated IPv4-compatible ::a.b.c.d.
        [0, 0, 0, 0, 0, 0, _, _] => true,
        // IPv4-translated ::ffff:0:a.b.c.d (SIIT): never a public host's address.
        [0, 0, 0, 0, 0xffff, 0, _, _] => true,
        // NAT64 (64:ff9b::/96): judge the IPv4 address inside.
        [0x64, 0xff9b, 0, 0, 0, 0, high, low] => is_forbidden_v4(embedded_v4(high, low)),
        // 6to4 (2002::/16): judge the IPv4 address inside.
        [0x2002, high, low, ..] => is_forbidden_v4(embedded_v4(high, low)),
        [first, second, ..] => {
            (first == 0x64 && second == 0xff9b) // local-use NAT64 and the rest of 64:ff9b::/32
                || first == 0x100 // discard-only
                || (first == 0x2001 && second < 0x200) // IETF protocol assignments, Teredo
                || (first == 0x2001 && second == 0xdb8) // documentation
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local
                || (first & 0xff00) == 0xff00 // multicast
        }
    }
}

/// A webhook endpoint URL: http(s), a host, no credentials, at most 2048 bytes.
/// The host's addresses are checked separately (at creation and at connect time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

impl WebhookUrl {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        if raw.len() > 2048 {
            return Err(FieldError::new(field, "must be at most 2048 characters"));
        }
        let url = url::Url::parse(raw)
            .map_err(|_| FieldError::new(field, "must be an absolute http(s) URL"))?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(FieldError::new(field, "must be an http or https URL"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FieldError::new(field, "must not contain credentials"));
        }
        if url.host().is_none() {
            return Err(FieldError::new(field, "must have a host"));
        }
        // The limit holds for the URL as stored and sent, too: percent-encoding can
        // make it longer than the text it came from (found by `make fuzz`).
        if url.as_str().len() > 2048 {
            return Err(FieldError::new(field, "must be at most 2048 characters"));
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &url::Url {
        &self.0
    }

    /// The host when it is an IP address (every IPv4 spelling — decimal, octal,
    /// hex, short — is already normalised by the URL parser).
    pub fn ip_literal(&self) -> Option<IpAddr> {
        match self.0.host()? {
            url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
            url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
            url::Host::Domain(_) => None,
        }
    }

    /// The host name to resolve, without a trailing dot.
    pub fn domain(&self) -> Option<&str> {
        self.0.domain().map(|d| d.trim_end_matches('.'))
    }

    pub fn port(&self) -> u16 {
        self.0.port_or_known_default().unwrap_or(443)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    #[test]
    fn ipv6_forms_that_embed_an_ipv4_address_are_judged_or_refused() {
        for forbidden in [
            "::ffff:0:7f00:1",              // IPv4-translated 127.0.0.1
            "::ffff:0:808:808",             // IPv4-translated, even of a public address
            "fe80::5efe:a00:1",             // ISATAP with 10.0.0.1
            "2001:db9::200:5efe:a9fe:a9fe", // ISATAP with 169.254.169.254
        ] {
            let ip: IpAddr = forbidden.parse().unwrap();
            assert!(is_forbidden_ip(ip), "{forbidden} allowed");
        }
        for allowed in ["2607:f8b0::5efe:808:808", "2606:4700::6810:84e5"] {
            let ip: IpAddr = allowed.parse().unwrap();
            assert!(!is_forbidden_ip(ip), "{allowed} refused");
        }
    }

    #[test]
    fn a_url_that_percent_encoding_makes_too_long_is_refused_and_an_accepted_one_parses_again() {
        // 600 × "é" is 1,200 bytes as text, 3,600 as the %C3%A9 the URL stores.
        let short = format!("https://hooks.example.com/{}", "é".repeat(600));
        assert!(short.len() <= 2048, "the text itself is within the limit");
        assert!(
            WebhookUrl::parse("url", &short).is_err(),
            "but 600 × %C3%A9 is not"
        );
        let fine = WebhookUrl::parse("url", "https://hooks.example.com/é?x=1").unwrap();
        assert_eq!(WebhookUrl::parse("url", fine.as_str()).unwrap(), fine);
    }

    #[test]
    fn private_and_reserved_addresses_are_forbidden() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:a00:1::",
            "::127.0.0.1",
            "ff02::1",
            "2001:db8::1",
            "fec0::1",
        ] {
            assert!(is_forbidden_ip(ip.parse().unwrap()), "{ip} allowed");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(!is_forbidden_ip(ip.parse().unwrap()), "{ip} forbidden");
        }
    }

    #[test]
    fn every_spelling_of_an_ipv4_literal_is_normalised_before_the_check() {
        for raw in [
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f.0.0.1/",
            "http://127.1/",
            "http://0x7f000001/",
            "http://127.0.0.1./",
            "http://[::ffff:7f00:1]/",
            "http://169.254.169.254/latest",
        ] {
            let url = WebhookUrl::parse("url", raw).unwrap();
            assert!(
                is_forbidden_ip(url.ip_literal().unwrap()),
                "{raw} → {:?}",
                url.ip_literal()
            );
        }
    }

    #[test]
    fn only_http_urls_without_credentials_are_endpoints() {
        assert!(WebhookUrl::parse("url", "https://hooks.example.com/partner").is_ok());
        for raw in [
            "ftp://example.com",
            "https://user:pw@example.com",
            "example.com",
            "javascript:alert(1)",
            "file:///etc/passwd",
        ] {
            assert!(WebhookUrl::parse("url", raw).is_err(), "{raw}");
        }
    }

    proptest! {
        #[test]
        fn no_private_ipv4_is_public_in_any_ipv6_wrapping(a in 0u8..=255, b in 0u8..=255, c in 0u8..=255, d in 0u8..=255) {
            let v4 = Ipv4Addr::new(a, b, c, d);
            if is_forbidden_v4(v4) {
                prop_assert!(is_forbidden_ip(IpAddr::V6(v4.to_ipv6_mapped())));
                let [h, l] = [u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])];
                prop_assert!(is_forbidden_ip(IpAddr::V6(Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, h, l))));
                prop_assert!(is_forbidden_ip(IpAddr::V6(Ipv6Addr::new(0x2002, h, l, 0, 0, 0, 0, 0))));
                let decimal = format!("http://{}/", u32::from(v4));
                let url = WebhookUrl::parse("url", &decimal).unwrap();
                prop_assert!(is_forbidden_ip(url.ip_literal().unwrap()));
            }
        }
    }
}
