//! Partner groups: creating, changing and deleting them (all of an app's groups
//! are one item, changed under its version, so a concurrent change is read again
//! and applied again), and moving a partner from one group to another.

use partner_domain::audit::{Actor, AuditAction, AuditEntry, AuditSubject, SubjectKind};
use partner_domain::events::{Event, EventType};
use partner_domain::records::Affiliate;
use partner_domain::rewards::{Group, GroupId, MAX_GROUPS};
use partner_domain::{AffiliateId, AppId};
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
pub fn find<'a>(set: &'a GroupSet, id: &GroupId) -> Result<&'a Group, CommandError> {
    set.find(id).ok_or(CommandError::NotFound(Missing::Group))
}

/// Moves a partner to `group` (`None`: the default group): the change, its audit
/// entry and a `partner_group_changed` event in one transaction. It applies to
/// revenue recorded from then on. `false` when the partner is not the app's.
pub async fn move_partner(
    state: &AppState,
    app: &AppId,
    affiliate: &AffiliateId,
    group: Option<GroupId>,
    actor: &Actor,
) -> Result<Option<Affiliate>, CommandError> {
    let store = state.store();
    let (affiliates, all_groups) = (store.affiliates(), store.groups());
    let (found, groups) = tokio::join!(affiliates.get(app, affiliate), all_groups.all(app));
    let (Some(before), groups) = (found?, groups?) else {
        return Ok(None);
    };
    let target = group.as_ref().map(|id| find(&groups, id)).transpose()?;
    if before.group_id == group {
        return Ok(Some(before));
    }
    let mut after = before.clone();
    after.group_id = group.clone();
    let now = partner_domain::now();
    let name = |g: Option<&Group>| g.map_or("the default group".to_owned(), |g| g.name.clone());
    let previous = before.group_id.as_ref().and_then(|id| groups.find(id));
    let event = Event::of(
        EventType::PartnerGroupChanged,
        app.clone(),
        &json!({
            "affiliate": {"id": after.id, "code": after.code, "customer_id": after.customer_id},
            "previousGroupId": before.group_id,
            "groupId": after.group_id,
        }),
        now,
    );
    let entry = AuditEntry::new(
        app.clone(),
        actor.clone(),
        AuditAction::AffiliateGroupChanged,
        AuditSubject::new(SubjectKind::Affiliate, &after.id),
    )
    .with_summary(format!("from {} to {}", name(previous), name(target)));
    if !store
        .affiliates()
        .update_with_event(&after, &entry, Some(&event))
        .await?
    {
        return Ok(None);
    }
    state.publisher().publish(store, &[event]).await;
    Ok(Some(after))
}
