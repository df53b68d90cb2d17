//! No private or reserved address is ever classified public, in any spelling: raw
//! IPv4/IPv6 bytes, IPv4-mapped and -compatible IPv6, and webhook URLs whose host is
//! an IP literal in whatever form the URL parser accepts (decimal, octal, hex,
//! trailing dots).
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use partner_domain::webhooks::{WebhookUrl, is_forbidden_ip};

/// The IPv4 ranges a webhook must never reach, written out independently of the
/// classifier under test.
fn private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    a == 0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || a >= 224
}

fuzz_target!(|data: &[u8]| {
    if let Ok(bytes) = <[u8; 4]>::try_from(&data[..data.len().min(4)]) {
        let v4 = Ipv4Addr::from(bytes);
        if private_v4(v4) {
            assert!(is_forbidden_ip(IpAddr::V4(v4)), "{v4} classified public");
        }
        let mapped = IpAddr::V6(v4.to_ipv6_mapped());
        assert_eq!(is_forbidden_ip(mapped), is_forbidden_ip(IpAddr::V4(v4)), "{mapped} vs {v4}");
    }
    if let Ok(bytes) = <[u8; 16]>::try_from(&data[..data.len().min(16)]) {
        let v6 = Ipv6Addr::from(bytes);
        let segments = v6.segments();
        if v6.is_loopback() || v6.is_unspecified() || (segments[0] & 0xfe00) == 0xfc00 || (segments[0] & 0xffc0) == 0xfe80 {
            assert!(is_forbidden_ip(IpAddr::V6(v6)), "{v6} classified public");
        }
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(url) = WebhookUrl::parse("url", text)
        && let Some(ip) = url.ip_literal()
        && let IpAddr::V4(v4) = ip
        && private_v4(v4)
    {
        assert!(is_forbidden_ip(ip), "{text:?} → {ip} classified public");
    }
});
