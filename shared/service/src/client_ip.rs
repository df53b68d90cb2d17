//! The client's IP address, for the per-IP rate limits.
//!
//! On Lambda it is API Gateway's `requestContext.http.sourceIp`, the address
//! that connected to API Gateway; under `partnerctl serve` it is the peer of the
//! TCP connection, which the server puts in the request as a [`PeerAddr`]. Never
//! a header such as `X-Forwarded-For`, which any client can set to whatever it
//! likes.

use std::net::{IpAddr, SocketAddr};

use axum::extract::FromRequestParts;
use axum::http::Extensions;
use axum::http::request::Parts;

/// The peer address of the connection a request came on, where a server of our
/// own (not API Gateway) accepted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// The client's address, when the deployment knows it (in-process tests that
/// do not set one have none, and per-IP limits then do not apply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

/// The client address of a request, from API Gateway or the connection.
pub fn of(extensions: &Extensions) -> Option<IpAddr> {
    use lambda_http::request::RequestContext;
    if let Some(RequestContext::ApiGatewayV2(context)) = extensions.get::<RequestContext>() {
        return context.http.source_ip.as_deref()?.parse().ok();
    }
    extensions.get::<PeerAddr>().map(|PeerAddr(peer)| peer.ip())
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(of(&parts.extensions)))
    }
}
