//! The audit log: who changed what in the app, newest first.

use axum::Json;
use axum::extract::State;
use partner_domain::audit::Actor;
use partner_domain::{FieldError, Timestamp};
use partner_service::admin_auth::AdminApp;
use partner_service::extract::QueryParams;
use partner_service::views::ListPage;
use partner_service::views::audit::AuditEntryView;
use partner_service::{ApiError, AppState};
use serde::Deserialize;

use crate::Paging;

#[derive(Debug, Deserialize)]
pub(crate) struct AuditQuery {
    actor: Option<String>,
    since: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

fn parse_since(raw: &str) -> Result<Timestamp, FieldError> {
    Timestamp::parse(raw, &time::format_description::well_known::Rfc3339).map_err(|_| {
        FieldError::new(
            "since",
            "must be an RFC 3339 time, such as 2026-11-30T12:00:00Z",
        )
    })
}

/// `GET /v1/apps/{appId}/audit-log?actor=&since=&limit=&cursor=`: newest first,
/// all entries or one actor's (`apiKey:<keyId>`, `admin:<sub>`,
/// `partner:<customerId>`, `system`), made at or after `since`. One query.
pub(crate) async fn list(
    State(state): State<AppState>,
    admin: AdminApp,
    QueryParams(query): QueryParams<AuditQuery>,
) -> Result<Json<ListPage<AuditEntryView>>, ApiError> {
    let actor = query
        .actor
        .as_deref()
        .map(|raw| Actor::parse("actor", raw))
        .transpose()?;
    let since = query.since.as_deref().map(parse_since).transpose()?;
    let limit = query.paging.limit()?;
    let (entries, next_cursor) = state
        .store()
        .audit_log()
        .list(
            &admin.app_id,
            actor.as_ref(),
            since,
            limit,
            query.paging.cursor,
        )
        .await?;
    Ok(Json(ListPage {
        data: entries.into_iter().map(AuditEntryView::from).collect(),
        next_cursor,
    }))
}
