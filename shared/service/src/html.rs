//! What the server-rendered pages share (the partner portal and the admin
//! console): escaping, the per-response CSP nonce, the security headers of an HTML
//! response, the error page, money as people read it, and text that stays legible
//! on an app's brand colour.

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use partner_domain::{Amount, Currency, Money};

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A fresh nonce for one response's inline style and script.
pub fn nonce() -> String {
    partner_domain::api_key::random_base62(22)
}

/// Percent-encodes a query-string value.
pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An HTML response with the pages' security headers: a CSP that allows only this
/// response's nonce for style and script, images over https, forms to this origin
/// and no framing; no referrer (links may carry tokens); no caching.
pub fn page(status: StatusCode, nonce: &str, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    let csp = format!(
        "default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; img-src https: data:; \
         form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A page that says what went wrong and shows nothing else.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let n = nonce();
    let body = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style nonce="{n}">body{{font:16px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f6f7f9;color:#1f2933}}main{{max-width:28rem;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.1)}}h1{{font-size:1.4rem}}</style></head>
<body><main role="alert"><h1>{title}</h1><p>{message}</p></main></body></html>"#,
        title = esc(title),
        message = esc(message),
    );
    page(status, &n, body)
}

/// Every decimal the currency has: `19.80 USD`, `1000 JPY`, `0.247 KWD`.
pub fn money(amount: Money, currency: &Currency) -> String {
    format!(
        "{} {}",
        Amount::new(amount, currency).fixed(),
        currency.as_str().to_uppercase()
    )
}

/// Black or white text, whichever reads better on `hex` (WCAG relative luminance).
pub fn text_on(hex: &str) -> &'static str {
    let channel = |i: usize| {
        let v = f64::from(u8::from_str_radix(hex.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0))
            / 255.0;
        if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    if luminance > 0.179 {
        "#111111"
    } else {
        "#ffffff"
    }
}

/// The brand colour pages use when the app has not set one.
pub const DEFAULT_COLOUR: &str = "#2563eb";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            esc(r#"<script>"x" & 'y'</script>"#),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn button_text_keeps_contrast_on_the_brand_colour() {
        assert_eq!(text_on("#ffffff"), "#111111");
        assert_eq!(text_on("#1a1a1a"), "#ffffff");
        assert_eq!(text_on("#2563eb"), "#ffffff");
        assert_eq!(text_on("#facc15"), "#111111");
    }

    #[test]
    fn money_shows_the_currency_s_decimals() {
        let currency = |code: &str| Currency::parse("currency", code).unwrap();
        assert_eq!(money(Money(1980), &currency("usd")), "19.80 USD");
        assert_eq!(money(Money(-5), &currency("usd")), "-0.05 USD");
        assert_eq!(money(Money(1000), &currency("jpy")), "1000 JPY");
        assert_eq!(money(Money(247), &currency("kwd")), "0.247 KWD");
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(urlencode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
