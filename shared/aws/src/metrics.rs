//! Metrics as CloudWatch Embedded Metric Format (EMF): one JSON line on stdout per
//! observation, which CloudWatch Logs turns into metrics in the `PartnerProgram`
//! namespace. No API call sits on the request path, and a line is also a log
//! entry Logs Insights can search.
//!
//! Lines are written only on Lambda (`AWS_LAMBDA_FUNCTION_NAME` set); every metric
//! carries the function's name as its `Function` dimension, which is what the
//! dashboard and alarms in template.yaml select on. The names and dimensions are
//! listed in docs/operations.md.

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "PartnerProgram";

/// A CloudWatch unit the metrics use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Seconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Milliseconds => "Milliseconds",
            Self::Seconds => "Seconds",
        }
    }
}

/// One observation: metric values, the dimension sets they are aggregated by, and
/// the dimension values (plus any searchable properties) they are recorded with.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    metrics: Vec<(&'static str, Unit, f64)>,
    dimension_sets: Vec<Vec<&'static str>>,
    fields: Map<String, Value>,
}

impl Observation {
    /// An observation aggregated by `Function` alone.
    pub fn new() -> Self {
        Self {
            dimension_sets: vec![vec!["Function"]],
            ..Self::default()
        }
    }

    /// Aggregated by these dimension sets instead (each includes `Function`).
    pub fn by(mut self, sets: &[&[&'static str]]) -> Self {
        self.dimension_sets = sets.iter().map(|set| set.to_vec()).collect();
        self
    }

    pub fn metric(mut self, name: &'static str, unit: Unit, value: f64) -> Self {
        self.metrics.push((name, unit, value));
        self
    }

    /// A dimension value or a property (a property is any field no set names).
    pub fn field(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(name.to_owned(), value.into());
        self
    }

    /// The EMF line for `function` at `timestamp_ms` (milliseconds since the epoch).
    pub fn to_line(&self, function: &str, timestamp_ms: i64) -> String {
        let mut root = self.fields.clone();
        root.insert("Function".to_owned(), function.into());
        for (name, _, value) in &self.metrics {
            root.insert((*name).to_owned(), json!(value));
        }
        let definitions: Vec<Value> = self
            .metrics
            .iter()
            .map(|(name, unit, _)| json!({"Name": name, "Unit": unit.as_str()}))
            .collect();
        root.insert(
            "_aws".to_owned(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": self.dimension_sets,
                    "Metrics": definitions,
                }],
            }),
        );
        Value::Object(root).to_string()
    }

    /// Writes the line, on Lambda only.
    pub fn emit(&self) {
        if let Some(function) = function_name() {
            let millis = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_millis() as i64);
            println!("{}", self.to_line(function, millis));
        }
    }
}

/// The Lambda function's name, or `None` off Lambda.
fn function_name() -> Option<&'static str> {
    static NAME: OnceLock<Option<String>> = OnceLock::new();
    NAME.get_or_init(|| {
        std::env::var("AWS_LAMBDA_FUNCTION_NAME")
            .ok()
            .filter(|name| !name.is_empty())
    })
    .as_deref()
}

/// `2xx` … `5xx` for a status code.
pub fn status_class(status: u16) -> &'static str {
    match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parts of the EMF specification a line must meet for CloudWatch to
    /// extract it: `_aws` with a timestamp and metric directives, every dimension
    /// and metric named in a directive present at the root, metric values numbers.
    fn assert_valid_emf(line: &str) {
        let root: Value = serde_json::from_str(line).expect("one JSON object");
        let aws = &root["_aws"];
        assert!(aws["Timestamp"].is_i64(), "{line}");
        let directives = aws["CloudWatchMetrics"].as_array().expect("directives");
        assert!(!directives.is_empty());
        for directive in directives {
            assert_eq!(directive["Namespace"], NAMESPACE);
            for set in directive["Dimensions"].as_array().expect("dimension sets") {
                let set = set.as_array().expect("a dimension set");
                assert!(set.len() <= 30, "at most 30 dimensions");
                for dimension in set {
                    let name = dimension.as_str().expect("a dimension name");
                    assert!(root[name].is_string(), "dimension {name} missing: {line}");
                }
            }
            for metric in directive["Metrics"].as_array().expect("metrics") {
                let name = metric["Name"].as_str().expect("a metric name");
                assert!(root[name].is_number(), "metric {name} missing: {line}");
                assert!(
                    ["Count", "Milliseconds", "Seconds"]
                        .contains(&metric["Unit"].as_str().unwrap()),
                    "{line}"
                );
            }
        }
    }

    #[test]
    fn a_request_line_is_valid_emf_with_both_dimension_sets() {
        let line = Observation::new()
            .by(&[&["Function", "StatusClass"], &["Function", "Route"]])
            .metric("Requests", Unit::Count, 1.0)
            .metric("Latency", Unit::Milliseconds, 12.5)
            .metric("StoreRoundTrips", Unit::Count, 2.0)
            .field("StatusClass", status_class(201))
            .field("Route", "POST /v1/affiliate/apply")
            .field("requestId", "abc")
            .to_line("partner-ApplyFunction", 1_764_000_000_000);
        assert_valid_emf(&line);
        let root: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(root["StatusClass"], "2xx");
        assert_eq!(root["Function"], "partner-ApplyFunction");
        assert_eq!(root["Latency"], 12.5);
    }

    #[test]
    fn background_lines_are_valid_emf() {
        for observation in [
            Observation::new()
                .by(&[&["Function", "Outcome"]])
                .metric("WebhookAttempts", Unit::Count, 1.0)
                .field("Outcome", "retrying"),
            Observation::new()
                .metric("OutboxRelayed", Unit::Count, 3.0)
                .metric("OutboxOldestAgeSeconds", Unit::Seconds, 75.0),
            Observation::new().metric("CommissionsCreated", Unit::Count, 1.0),
            Observation::new().metric("CommissionsApproved", Unit::Count, 12.0),
            Observation::new().metric("PayoutsCreated", Unit::Count, 4.0),
        ] {
            assert_valid_emf(&observation.to_line("fn", 1));
        }
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(200), "2xx");
        assert_eq!(status_class(304), "3xx");
        assert_eq!(status_class(429), "4xx");
        assert_eq!(status_class(503), "5xx");
    }
}
