//! The audit log as the admin API shows it.

use partner_domain::Timestamp;
use partner_domain::audit::{Actor, AuditAction, AuditEntry, AuditId, AuditSubject};
use serde::Serialize;

/// One entry: who (`actor`) did what (`action`) to which thing (`subject`), when.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryView {
    id: AuditId,
    #[serde(with = "time::serde::rfc3339")]
    at: Timestamp,
    actor: Actor,
    action: AuditAction,
    subject: AuditSubject,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(entry: AuditEntry) -> Self {
        Self {
            id: entry.id,
            at: entry.at,
            actor: entry.actor,
            action: entry.action,
            subject: entry.subject,
            summary: entry.summary,
        }
    }
}
