//! The audit log in tests: read through the admin API, and the actor and entries
//! of changes a test makes straight in the store.

use std::fmt::Display;

use axum::http::Method;
use partner_domain::AppId;
use partner_domain::audit::{Actor, AuditAction, AuditEntry, AuditSubject, SubjectKind};
use serde_json::Value;

use crate::{ADMIN_SUBJECT, TestApp, TestResponse};

/// Who a test is when it changes the store directly: the subject of its admin
/// tokens, as an operator would be.
pub fn test_admin() -> Actor {
    Actor::admin(ADMIN_SUBJECT)
}

/// The audit entry of a change a test makes straight in the store.
pub fn test_audit_entry(
    app: &AppId,
    action: AuditAction,
    kind: SubjectKind,
    id: impl Display,
) -> AuditEntry {
    AuditEntry::new(
        app.clone(),
        test_admin(),
        action,
        AuditSubject::new(kind, id),
    )
}

impl TestApp {
    /// `GET /v1/apps/{appId}/audit-log?{query}` with this app's admin token
    /// (`query` already percent-encoded).
    pub async fn audit_log(&self, query: &str) -> TestResponse {
        let path = format!("/v1/apps/{}/audit-log?{query}", self.app_id);
        self.admin(Method::GET, &path, Some(&self.admin_token()), None)
            .await
    }

    /// Every entry of the app's audit log, newest first, following the cursors.
    pub async fn audit_entries(&self) -> Vec<Value> {
        let mut entries = Vec::new();
        let mut query = "limit=100".to_owned();
        loop {
            let page = self.audit_log(&query).await;
            assert_eq!(page.status, 200, "{:#}", page.body);
            entries.extend(page.body["data"].as_array().cloned().unwrap_or_default());
            match page.body["nextCursor"].as_str() {
                Some(cursor) => query = format!("limit=100&cursor={cursor}"),
                None => return entries,
            }
        }
    }

    /// The id of the key in `api_key` (what the audit log names it by).
    pub async fn api_key_id(&self) -> String {
        self.state
            .api_keys()
            .authenticate(self.state.store(), &self.api_key)
            .await
            .expect("the app's own key")
            .key_id
            .to_string()
    }
}
