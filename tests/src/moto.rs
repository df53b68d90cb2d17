//! The AWS services on the harness's moto server: clients, the EventBridge bus →
//! rule → SQS queue wiring `template.yaml` declares, and secrets.

use serde_json::Value;

/// AWS clients for the harness's moto server, and the EventBridge bus → rule →
/// SQS queue wiring that `template.yaml` declares.
#[derive(Debug, Clone)]
pub struct MotoAws {
    pub eventbridge: aws_sdk_eventbridge::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub dynamodb: aws_sdk_dynamodb_client::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
}

/// Stores `value` as a new Secrets Manager secret `name` on moto at `endpoint`;
/// returns its ARN.
pub async fn moto_secret(endpoint: &str, name: &str, value: &str) -> String {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .http_client(partner_aws::http::client())
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "test", "test", None, None, "moto",
        ))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("create a secret on moto")
        .arn
        .expect("an ARN")
}

/// Re-export so tests need not depend on the DynamoDB SDK themselves.
pub mod aws_sdk_dynamodb_client {
    pub use partner_store::dynamo::Client;
}

impl MotoAws {
    pub async fn connect() -> Self {
        let endpoint = std::env::var(partner_store::testing::MOTO_ENDPOINT_VAR)
            .expect("MOTO_ENDPOINT (run the tests through `make test`, which starts moto)");
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(partner_aws::http::client())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                "test", "test", None, None, "moto",
            ))
            .load()
            .await;
        Self {
            eventbridge: aws_sdk_eventbridge::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
            dynamodb: partner_store::dynamo::Client::new(&config),
            secrets: aws_sdk_secretsmanager::Client::new(&config),
        }
    }

    /// A new bus with a rule sending every partner-program event to a new queue.
    /// Returns (bus name, queue URL).
    pub async fn bus_with_queue(&self) -> (String, String) {
        let suffix = ulid_suffix();
        let bus = format!("partners-{suffix}");
        let queue = format!("webhooks-{suffix}");
        self.eventbridge
            .create_event_bus()
            .name(&bus)
            .send()
            .await
            .expect("create bus");
        let queue_url = self
            .sqs
            .create_queue()
            .queue_name(&queue)
            .send()
            .await
            .expect("create queue")
            .queue_url
            .expect("url");
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes");
        let queue_arn = attributes
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .expect("queue arn")
            .clone();
        self.eventbridge
            .put_rule()
            .name(format!("to-{queue}"))
            .event_bus_name(&bus)
            .event_pattern(
                serde_json::json!({"source": [partner_service::events::EVENT_SOURCE]}).to_string(),
            )
            .send()
            .await
            .expect("put rule");
        self.eventbridge
            .put_targets()
            .rule(format!("to-{queue}"))
            .event_bus_name(&bus)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("queue")
                    .arn(queue_arn)
                    .build()
                    .expect("target"),
            )
            .send()
            .await
            .expect("put targets");
        (bus, queue_url)
    }

    /// Every message on the queue, as parsed JSON bodies: received (and deleted) until
    /// none has arrived for `wait`.
    pub async fn drain(&self, queue_url: &str, wait: std::time::Duration) -> Vec<Value> {
        let mut last_seen = std::time::Instant::now();
        let mut bodies = Vec::new();
        while last_seen.elapsed() < wait {
            let output = self
                .sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive");
            if !output.messages().is_empty() {
                last_seen = std::time::Instant::now();
            }
            for message in output.messages() {
                bodies.push(
                    serde_json::from_str(message.body().unwrap_or("null")).expect("JSON body"),
                );
                if let Some(handle) = message.receipt_handle() {
                    self.sqs
                        .delete_message()
                        .queue_url(queue_url)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .expect("delete");
                }
            }
        }
        bodies
    }
}

fn ulid_suffix() -> String {
    partner_domain::AppId::generate()
        .as_str()
        .trim_start_matches("app_")
        .to_lowercase()
}
