//! The HTTP API through the routers, on the embedded store and on DynamoDB (moto).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod admin;
mod apply;
mod audit;
mod by_customer;
mod capacity;
mod cold;
mod consistency;
mod console;
mod currencies;
mod earnings;
mod events;
mod faults;
mod hot_keys;
mod isolation;
mod ledger_property;
mod logs;
mod outbox;
mod partner;
mod payouts;
mod rate_limits;
mod rewards;
mod secrets;
mod status;
mod stripe;
mod views;
mod webhooks;
mod webhooks_dispatch;
mod webhooks_moto;
