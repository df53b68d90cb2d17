//! The admin Lambda: configuration and clients once per cold start, then the router.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    partner_service::logging::init();
    let state = partner_service::AppState::from_env().await?;
    lambda_http::run(partner_service::http::finish(admin::router(), state)).await
}
