//! The AWS SDK configuration of the Lambdas, read from the variables Lambda sets.
//!
//! Lambda gives a function its role's credentials in `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, and its region in `AWS_REGION`.
//! Nothing else of `aws-config`'s default chain (profile files, SSO, web identity,
//! container and instance metadata) applies there, and that chain was a tenth of
//! every function binary and file reads at every cold start (BENCHMARKS.md).
//! `partnerctl`, which runs on operators' machines, keeps the whole chain.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
use aws_types::SdkConfig;

/// The configuration every client of a function is built from, once per cold start.
pub fn from_lambda_environment() -> SdkConfig {
    from_variables(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
}

fn from_variables(var: impl Fn(&str) -> Option<String>) -> SdkConfig {
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(partner_aws::http::client())
        .timeout_config(partner_aws::http::timeouts())
        .retry_config(partner_aws::http::retries())
        .region(
            var("AWS_REGION")
                .or_else(|| var("AWS_DEFAULT_REGION"))
                .map(Region::new),
        );
    if let (Some(id), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        let credentials =
            Credentials::new(id, secret, var("AWS_SESSION_TOKEN"), None, "environment");
        config = config.credentials_provider(SharedCredentialsProvider::new(credentials));
    }
    // moto or DynamoDB Local in tests and local runs; never set on Lambda.
    if let Some(endpoint) = var("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(endpoint);
    }
    config.build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::config::ProvideCredentials as _;

    fn variables(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[tokio::test]
    async fn lambda_credentials_region_and_endpoint_come_from_the_environment() {
        let config = from_variables(variables(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ]));
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:5000"));
        let credentials = config
            .credentials_provider()
            .expect("a provider")
            .provide_credentials()
            .await
            .expect("credentials");
        assert_eq!(credentials.access_key_id(), "AKIDEXAMPLE");
        assert_eq!(credentials.session_token(), Some("token"));
    }

    #[test]
    fn without_credentials_there_is_no_provider_and_the_default_region_is_a_fallback() {
        let config = from_variables(variables(&[("AWS_DEFAULT_REGION", "us-east-1")]));
        assert!(config.credentials_provider().is_none());
        assert_eq!(config.region().map(|r| r.as_ref()), Some("us-east-1"));
        assert_eq!(config.endpoint_url(), None);
    }
}
