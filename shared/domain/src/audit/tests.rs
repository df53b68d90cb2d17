//! The audit log's records: actors, actions and subjects as they are written and read.

use super::*;

#[test]
fn ids_of_one_millisecond_keep_the_order_they_were_made_in() {
    let at = crate::now();
    let ids: Vec<String> = (0..200)
        .map(|_| AuditId::generate_at(at).to_string())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    assert!(ids.windows(2).all(|pair| pair[0] != pair[1]));
}

#[test]
fn actors_read_back_from_their_text() {
    let actors = [
        Actor::ApiKey(ApiKeyId::generate()),
        Actor::admin("ops@acme.com"),
        Actor::admin(""),
        Actor::Partner(CustomerId::parse("c", "auth0|abc123").unwrap()),
        Actor::Stripe,
        Actor::System,
    ];
    for actor in actors {
        let text = actor.to_string();
        assert_eq!(Actor::parse("actor", &text), Ok(actor.clone()), "{text}");
        let json = serde_json::to_value(&actor).unwrap();
        assert_eq!(json, serde_json::Value::String(text));
        assert_eq!(serde_json::from_value::<Actor>(json).unwrap(), actor);
    }
    assert_eq!(Actor::System.to_string(), "system");
    assert!(
        Actor::ApiKey(ApiKeyId::generate())
            .to_string()
            .starts_with("apiKey:key_")
    );
}

#[test]
fn malformed_actors_are_refused() {
    for raw in [
        "",
        "System",
        "apiKey:",
        "apiKey:sk_live_x",
        "partner:a#b",
        "stranger:x",
        "admin",
    ] {
        assert!(Actor::parse("actor", raw).is_err(), "{raw:?} accepted");
    }
    let long = format!("admin:{}", "a".repeat(Actor::MAX_ADMIN_LEN + 1));
    assert!(Actor::parse("actor", &long).is_err());
}

#[test]
fn a_long_admin_subject_is_cut_and_still_reads_back() {
    let actor = Actor::admin(&"é".repeat(Actor::MAX_ADMIN_LEN + 50));
    let Actor::Admin(subject) = &actor else {
        unreachable!()
    };
    assert_eq!(subject.chars().count(), Actor::MAX_ADMIN_LEN);
    assert_eq!(Actor::parse("actor", &actor.to_string()), Ok(actor));
}

#[test]
fn every_action_reads_back_from_its_name() {
    for action in AuditAction::ALL {
        let json = serde_json::to_value(action).unwrap();
        assert_eq!(json, action.as_str());
        assert_eq!(
            serde_json::from_value::<AuditAction>(json).unwrap(),
            *action
        );
    }
    assert!(serde_json::from_value::<AuditAction>("made.up".into()).is_err());
}

#[test]
fn ids_sort_by_their_time_and_the_lower_bound_splits_them() {
    let first = crate::now();
    let second = first + time::Duration::milliseconds(5);
    let early = AuditId::generate_at(first);
    let late = AuditId::generate_at(second);
    assert!(early < late);
    let bound = AuditId::lower_bound_at(second);
    assert!(early < bound && bound <= late);
    // A bound between two milliseconds excludes the earlier one.
    let between = AuditId::lower_bound_at(first + time::Duration::microseconds(500));
    assert!(early < between);
    assert!(AuditId::parse("id", late.as_str()).is_ok());
}

#[test]
fn a_summary_names_the_fields_given_only() {
    assert_eq!(
        fields_given(&[("url", true), ("events", false), ("enabled", true)]),
        "fields given: url, enabled"
    );
    assert_eq!(fields_given(&[("url", false)]), "no fields given");
}

#[test]
fn an_entry_round_trips_through_json() {
    let entry = AuditEntry::new(
        AppId::generate(),
        Actor::admin("ops"),
        AuditAction::ApplicationApproved,
        AuditSubject::new(SubjectKind::Application, crate::ApplicationId::generate()),
    )
    .with_summary("partner aff_1 with code JANE20");
    let json = serde_json::to_value(&entry).unwrap();
    assert_eq!(json["actor"], "admin:ops");
    assert_eq!(json["action"], "application.approved");
    assert_eq!(json["subject"]["kind"], "application");
    assert_eq!(serde_json::from_value::<AuditEntry>(json).unwrap(), entry);
}
