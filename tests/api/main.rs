//! The HTTP API through the routers, on the embedded store and on DynamoDB (moto).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod apply;
mod by_customer;
mod consistency;
mod events;
mod outbox;
mod status;
mod webhooks;
mod webhooks_moto;
