//! Partner groups: creating, changing and deleting them (all of an app's groups
//! are one item, changed under its version, so a concurrent change is read again
//! and applied again), and changing a partner: its status, own rate and group.

use partner_domain::audit::{Actor, AuditAction, AuditEntry, AuditSubject, SubjectKind};
use partner_domain::events::{Event, EventType};
use partner_domain::records::{Affiliate, AffiliateStatus};
use partner_domain::rewards::{Group, GroupId, MAX_GROUPS};
use partner_domain::{AffiliateId, AppId, RateBps};
use partner_store::repo::groups::GroupSet;
use serde_json::json;

use super::{CommandError, Missing};
use crate::AppState;

/// Attempts at saving when concurrent changes to the app's groups keep winning.
const ATTEMPTS: u32 = 5;

fn audit(app: &AppId, actor: &Actor, action: AuditAction, group: &Group) -> AuditEntry {
    AuditEntry::new(
        app.clone(),
        actor.clone(),
        action,
        AuditSubject::new(SubjectKind::Group, &group.id),
    )
    .with_summary(format!("{} ({})", group.name, group.slug))
}

/// The slugs of `groups` are distinct and there are not too many of them.
fn check(groups: &[Group]) -> Result<(), CommandError> {
    if groups.len() > MAX_GROUPS {
        return Err(CommandError::TooManyGroups);
    }
    for (n, group) in groups.iter().enumerate() {
        if groups[..n].iter().any(|other| other.slug == group.slug) {
            return Err(CommandError::GroupSlugTaken);
        }
    }
    Ok(())
}

/// A change to the list of groups: what to answer, the audit action and the group
/// it is about.
type Edit<'a, T> =
    dyn Fn(&mut Vec<Group>) -> Result<(T, AuditAction, Group), CommandError> + Sync + 'a;

/// Reads the app's groups, lets `edit` change the list (returning what to answer
/// and what to audit), and saves it under the version read; again on a conflict.
async fn edit_groups<T>(
    state: &AppState,
    app: &AppId,
    actor: &Actor,
    edit: &Edit<'_, T>,
) -> Result<T, CommandError> {
    let store = state.store();
    for _ in 0..ATTEMPTS {
        let read = store.groups().all(app).await?;
        let mut groups = read.groups.clone();
        let (answer, action, subject) = edit(&mut groups)?;
        check(&groups)?;
        let entry = audit(app, actor, action, &subject);
        if store.groups().save(app, &read, groups, &entry).await? {
            return Ok(answer);
        }
    }
    Err(CommandError::GroupsCollided)
}

pub async fn create(
    state: &AppState,
    app: &AppId,
    group: Group,
    actor: &Actor,
) -> Result<Group, CommandError> {
    edit_groups(state, app, actor, &|groups| {
        groups.push(group.clone());
        Ok((group.clone(), AuditAction::GroupCreated, group.clone()))
    })
    .await
}

/// Changes the group `id` with `change` (its `updatedAt` moves to now).
pub async fn change(
    state: &AppState,
    app: &AppId,
    id: &GroupId,
    change: &(dyn Fn(&mut Group) + Sync),
    actor: &Actor,
) -> Result<Group, CommandError> {
    edit_groups(state, app, actor, &|groups| {
        let group = groups
            .iter_mut()
            .find(|g| &g.id == id)
            .ok_or(CommandError::NotFound(Missing::Group))?;
        change(group);
        group.updated_at = partner_domain::now();
        Ok((group.clone(), AuditAction::GroupUpdated, group.clone()))
    })
    .await
}

/// Deletes a group; its partners are in the default group from then on.
pub async fn delete(
    state: &AppState,
    app: &AppId,
    id: &GroupId,
    actor: &Actor,
) -> Result<(), CommandError> {
    edit_groups(state, app, actor, &|groups| {
        let at = groups
            .iter()
            .position(|g| &g.id == id)
            .ok_or(CommandError::NotFound(Missing::Group))?;
        let removed = groups.remove(at);
        Ok(((), AuditAction::GroupDeleted, removed))
    })
    .await
}

/// The app's group with this id, or an error naming the missing group.
fn find<'a>(set: &'a GroupSet, id: &GroupId) -> Result<&'a Group, CommandError> {
    set.find(id).ok_or(CommandError::NotFound(Missing::Group))
}

/// A change to a partner: each field `Some` is set (a rate or group of `None`:
/// the program's default rate, the default group).
#[derive(Debug, Clone, Default)]
pub struct PartnerEdit {
    pub status: Option<AffiliateStatus>,
    pub rate: Option<Option<RateBps>>,
    pub group: Option<Option<GroupId>>,
}

/// Changes a partner's status, own rate and group in one write, with its audit
/// entry and, when it moved, a `partner_group_changed` event (its new group
/// applies to revenue from then on). `None` when the partner is not the app's.
pub async fn change_partner(
    state: &AppState,
    app: &AppId,
    id: &AffiliateId,
    edit: PartnerEdit,
    actor: &Actor,
) -> Result<Option<Affiliate>, CommandError> {
    let store = state.store();
    let Some(before) = store.affiliates().get_consistent(app, id).await? else {
        return Ok(None);
    };
    let mut after = before.clone();
    if let Some(status) = edit.status {
        after.status = status;
    }
    if let Some(rate) = edit.rate {
        after.commission_rate = rate;
    }
    let mut moved = None;
    if let Some(group) = edit.group.filter(|group| *group != before.group_id) {
        let groups = store.groups().all(app).await?;
        let name = |id: Option<&GroupId>| match id.and_then(|id| groups.find(id)) {
            Some(group) => group.name.clone(),
            None => "the default group".to_owned(),
        };
        if let Some(id) = &group {
            find(&groups, id)?;
        }
        moved = Some(format!(
            "from {} to {}",
            name(before.group_id.as_ref()),
            name(group.as_ref())
        ));
        after.group_id = group;
    }
    let now = partner_domain::now();
    let event = moved.is_some().then(|| {
        Event::of(
            EventType::PartnerGroupChanged,
            app.clone(),
            &json!({
                "affiliate": {"id": after.id, "code": after.code, "customer_id": after.customer_id},
                "previousGroupId": before.group_id,
                "groupId": after.group_id,
            }),
            now,
        )
    });
    let entry = partner_audit(app, actor, &before, &after, moved.as_deref());
    if !store
        .affiliates()
        .update(&after, &entry, event.as_ref())
        .await?
    {
        return Ok(None);
    }
    if let Some(event) = event {
        state.publisher().publish(store, &[event]).await;
    }
    Ok(Some(after))
}

/// The audit entry of a partner change: named after a suspension or reactivation
/// first, then a move, then a new rate; the summary gives the partner's status and
/// rate after, and where it moved.
fn partner_audit(
    app: &AppId,
    actor: &Actor,
    before: &Affiliate,
    after: &Affiliate,
    moved: Option<&str>,
) -> AuditEntry {
    let action = match (before.status, after.status) {
        (AffiliateStatus::Active, AffiliateStatus::Suspended) => AuditAction::AffiliateSuspended,
        (AffiliateStatus::Suspended, AffiliateStatus::Active) => AuditAction::AffiliateReactivated,
        _ if moved.is_some() => AuditAction::AffiliateGroupChanged,
        _ if before.commission_rate != after.commission_rate => AuditAction::AffiliateRateChanged,
        _ => AuditAction::AffiliateUpdated,
    };
    let rate = match after.commission_rate {
        Some(rate) => format!("{}%", rate.to_percent_f64()),
        None => "the program's default".to_owned(),
    };
    let mut summary = format!("status {}, commission rate {rate}", after.status.as_str());
    if let Some(moved) = moved {
        summary.push_str(&format!(", moved {moved}"));
    }
    AuditEntry::new(
        app.clone(),
        actor.clone(),
        action,
        AuditSubject::new(SubjectKind::Affiliate, &after.id),
    )
    .with_summary(summary)
}
