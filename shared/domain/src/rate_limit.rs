//! Request rate limits: what an app allows, the one-minute windows they are
//! counted in, and the refusal a client gets when it is over one.
//!
//! Limits are counted per fixed window of [`WINDOW_SECONDS`]; a counter's key
//! names its window, so a new minute starts from zero without any reset. Fixed
//! windows may let through up to twice a limit across a window boundary, which is
//! acceptable for abuse protection and costs one counter per window instead of a
//! read-modify-write of a sliding log.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// Every limit is per this many seconds.
pub const WINDOW_SECONDS: i64 = 60;

/// An app's limits, requests per minute (part of the program settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimits {
    /// Applications per client IP with a publishable key.
    #[serde(default = "default_apply_per_ip")]
    pub apply_per_ip: u32,
    /// Clicks per client IP with a publishable key.
    #[serde(default = "default_track_per_ip")]
    pub track_per_ip: u32,
    /// Requests per API key, of any kind, on every route.
    #[serde(default = "default_per_key")]
    pub per_key: u32,
}

/// The most a setting may allow (a million a minute, far above what a
/// deployment's API Gateway throttle lets through).
pub const MAX_PER_MINUTE: u32 = 1_000_000;

fn default_apply_per_ip() -> u32 {
    10
}

fn default_track_per_ip() -> u32 {
    120
}

fn default_per_key() -> u32 {
    60_000
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            apply_per_ip: default_apply_per_ip(),
            track_per_ip: default_track_per_ip(),
            per_key: default_per_key(),
        }
    }
}

/// What a limit counts, named as the `RateLimit-Policy` header names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Applications from one IP (publishable key).
    Apply,
    /// Clicks from one IP (publishable key).
    Track,
    /// Requests with one API key.
    Key,
    /// Failed authentications from one IP.
    FailedAuth,
}

impl Policy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Apply => "apply",
            Self::Track => "track",
            Self::Key => "key",
            Self::FailedAuth => "failed-auth",
        }
    }
}

/// One fixed window, by the Unix time it starts at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    pub start: i64,
}

impl Window {
    /// The window `unix_seconds` falls in.
    pub fn at(unix_seconds: i64) -> Self {
        Self {
            start: unix_seconds - unix_seconds.rem_euclid(WINDOW_SECONDS),
        }
    }

    pub fn now() -> Self {
        Self::at(crate::now().unix_timestamp())
    }

    pub fn end(self) -> i64 {
        self.start + WINDOW_SECONDS
    }

    /// Whole seconds from `unix_seconds` until the window ends (at least 1).
    pub fn seconds_left(self, unix_seconds: i64) -> u32 {
        (self.end() - unix_seconds).clamp(1, WINDOW_SECONDS) as u32
    }
}

/// A request over a limit: which one, and when the client may try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    pub policy: Policy,
    /// Requests per window.
    pub limit: u32,
    /// Seconds until the window ends.
    pub retry_after: u32,
}

impl Exceeded {
    /// Over `limit` of `policy` in `window`, as of now.
    pub fn in_window(policy: Policy, limit: u32, window: Window) -> Self {
        Self {
            policy,
            limit,
            retry_after: window.seconds_left(crate::now().unix_timestamp()),
        }
    }
}

/// What a per-IP limit counts by: the address, except that an IPv6 client is
/// counted by its /64 (one subscriber's network, which can hold 2^64 addresses)
/// and an IPv4 address written in IPv6 form is counted as the IPv4 address.
pub fn ip_subject(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_whole_minutes() {
        // 1_700_000_040 is a whole minute since the epoch.
        let window = Window::at(1_700_000_059);
        assert_eq!(window.start, 1_700_000_040);
        assert_eq!(window.end(), 1_700_000_100);
        assert_eq!(Window::at(1_700_000_100).start, 1_700_000_100);
        assert_eq!(Window::at(1_700_000_039).start, 1_699_999_980);
        assert_eq!(window.seconds_left(1_700_000_099), 1);
        assert_eq!(window.seconds_left(1_700_000_040), 60);
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ip_subject(a), ip_subject(b));
        assert_ne!(ip_subject(a), ip_subject(other));
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        assert_eq!(ip_subject(mapped), "203.0.113.7");
    }

    #[test]
    fn settings_without_limits_get_the_defaults() {
        let limits: RateLimits = serde_json::from_str("{}").unwrap();
        assert_eq!(limits, RateLimits::default());
        assert_eq!(limits.apply_per_ip, 10);
        assert_eq!(limits.track_per_ip, 120);
    }
}
