//! The partner-session Lambda: configuration and clients once per cold start, then the router.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let state = partner_service::AppState::from_env().await?;
    lambda_http::run(partner_service::http::finish(partner::routes(), state)).await
}
