//! Logging set-up for the Lambdas: one line per event on stdout, as JSON when the
//! function's log format is JSON (`AWS_LAMBDA_LOG_FORMAT`, set by `LoggingConfig` in
//! template.yaml), filtered by `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`.
//!
//! The filter is `tracing_subscriber`'s `Targets` (`info`, `warn,partner_service=debug`),
//! not `EnvFilter`: the same directives without a regex engine in every binary.

use std::str::FromStr;

use tracing::Subscriber;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;

/// The filter when neither variable is set (or it does not parse).
const DEFAULT_LEVEL: &str = "info";

/// Installs the global subscriber; call once, first thing in `main`.
pub fn init() {
    let directives = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_default();
    let _ = tracing::subscriber::set_global_default(subscriber(
        &directives,
        json_format(),
        std::io::stdout,
    ));
}

/// Whether lines are JSON: the function's log format is JSON (`AWS_LAMBDA_LOG_FORMAT`).
pub fn json_format() -> bool {
    std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"))
}

/// The subscriber [`init`] installs, filtered by `directives` and writing to
/// `writer` — `partnerctl serve` uses it on stderr, tests capture the lines with it.
pub fn subscriber<W>(directives: &str, json: bool, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    // CloudWatch stamps every line itself; colours would only be noise there.
    let format = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .with_writer(writer);
    let registry = tracing_subscriber::registry().with(parse_filter(directives));
    if json {
        Box::new(registry.with(format.json()))
    } else {
        Box::new(registry.with(format))
    }
}

/// `directives` as a filter; Lambda's level names (`INFO`, `WARN`…) included.
fn parse_filter(directives: &str) -> Targets {
    let lowered = directives.trim().to_ascii_lowercase();
    let directives = if lowered.is_empty() {
        DEFAULT_LEVEL
    } else {
        &lowered
    };
    Targets::from_str(directives)
        .or_else(|_| Targets::from_str(DEFAULT_LEVEL))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn lambda_level_names_and_rust_log_directives_both_parse() {
        let lambda = parse_filter("WARN");
        assert!(lambda.would_enable("partner_service", &Level::WARN));
        assert!(!lambda.would_enable("partner_service", &Level::INFO));

        let directives = parse_filter("warn,partner_store=debug");
        assert!(directives.would_enable("partner_store::dynamo", &Level::DEBUG));
        assert!(!directives.would_enable("hyper", &Level::INFO));
    }

    #[test]
    fn an_unset_or_unreadable_filter_means_info() {
        for directives in ["", "  ", "info,=[bad"] {
            let filter = parse_filter(directives);
            assert!(
                filter.would_enable("partner_service", &Level::INFO),
                "{directives:?}"
            );
            assert!(
                !filter.would_enable("partner_service", &Level::DEBUG),
                "{directives:?}"
            );
        }
    }
}
