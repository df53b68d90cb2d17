//! What every HTTP function shares.
//!
//! [`AppState`] is built once per cold start (store client, API-key cache, config)
//! and lent to each request; [`auth`] turns credentials into a tenant; [`problem`]
//! is the one API error type, rendered as RFC 9457 problem+json; [`extract`] holds
//! request extractors whose rejections are problems too; [`commands`] holds the
//! domain operations the functions call; [`http`] wraps a function's routes with
//! the layers every deployment needs.

pub mod admin_auth;
pub mod auth;
pub mod aws;
pub mod client_ip;
pub mod commands;
pub mod config;
pub mod cors;
pub mod csv;
pub mod events;
pub mod extract;
pub mod html;
pub mod http;
pub mod jwt_crypto;
pub mod logging;
pub mod presented_key;
pub mod problem;
pub mod rate_limit;
pub mod secrets;
pub mod session;
pub mod settings_cache;
pub mod state;
pub mod views;

pub use auth::{PublicTenant, Tenant};
pub use problem::ApiError;
pub use state::AppState;
