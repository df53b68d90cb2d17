//! Apps (tenants), their program settings and their API keys.

use partner_domain::api_key::{ApiKeyHash, KeyKind, NewApiKey};
use partner_domain::audit::{Actor, AuditAction, AuditEntry, AuditSubject, SubjectKind};
use partner_domain::records::{ApiKeyRecord, App, ProgramSettings};
use partner_domain::{ApiKeyId, AppId};
use serde_json::Value;

use super::{from_item, to_item, with_index};
use crate::keys::{self, attr, entity};
use crate::{
    Condition, Index, Key, Query, SortKey, Store, StoreError, StoreResult, Update, WriteOp,
};

/// Everything `apps create` hands back: the secrets are in `api_key` (the secret
/// key) and `publishable_key`, and nowhere else.
#[derive(Debug)]
pub struct CreatedApp {
    pub app: App,
    pub key: ApiKeyRecord,
    pub api_key: NewApiKey,
    pub publishable: ApiKeyRecord,
    pub publishable_key: NewApiKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    Revoked,
    NotFound,
}

#[derive(Debug, Clone, Copy)]
pub struct Apps<'a> {
    store: &'a Store,
}

impl Store {
    pub fn apps(&self) -> Apps<'_> {
        Apps { store: self }
    }
}

impl Apps<'_> {
    /// Creates an app with default settings, a secret key for its servers and a
    /// publishable key for its web pages, atomically.
    pub async fn create(&self, name: &str) -> StoreResult<CreatedApp> {
        let app = App {
            id: AppId::generate(),
            name: name.to_owned(),
            created_at: partner_domain::now(),
        };
        let app_item = with_index(
            to_item(&keys::app(&app.id), entity::APP, &app)?,
            attr::GSI1_PK,
            attr::GSI1_SK,
            keys::ALL_APPS.to_owned(),
            app.id.to_string(),
        );
        let settings_item = to_item(
            &keys::settings(&app.id),
            entity::SETTINGS,
            &ProgramSettings::default(),
        )?;
        let (key, api_key, key_item) = new_key_item(&app.id, KeyKind::Secret, Some("default"))?;
        let (publishable, publishable_key, publishable_item) =
            new_key_item(&app.id, KeyKind::Publishable, Some("default"))?;
        self.store
            .transact(vec![
                WriteOp::Put {
                    item: app_item,
                    condition: Some(Condition::NotExists),
                },
                WriteOp::Put {
                    item: settings_item,
                    condition: Some(Condition::NotExists),
                },
                WriteOp::Put {
                    item: key_item,
                    condition: Some(Condition::NotExists),
                },
                WriteOp::Put {
                    item: publishable_item,
                    condition: Some(Condition::NotExists),
                },
            ])
            .await?;
        Ok(CreatedApp {
            app,
            key,
            api_key,
            publishable,
            publishable_key,
        })
    }

    pub async fn get(&self, app: &AppId) -> StoreResult<Option<App>> {
        super::record(self.store, &keys::app(app), false).await
    }

    /// Every app, oldest first (apps are few; this is for operators).
    pub async fn list(&self) -> StoreResult<Vec<App>> {
        super::all(self.store, Query::partition(Index::Gsi1, keys::ALL_APPS)).await
    }

    /// The app and its settings, in one read (the console's header and defaults).
    pub async fn with_settings(&self, app: &AppId) -> StoreResult<Option<(App, ProgramSettings)>> {
        let mut items = self
            .store
            .get_many(&[keys::app(app), keys::settings(app)], true)
            .await?
            .into_iter();
        match (items.next().flatten(), items.next().flatten()) {
            (Some(app), Some(settings)) => Ok(Some((from_item(app)?, from_item(settings)?))),
            _ => Ok(None),
        }
    }

    /// Marks a console login token (by its hash) as used until `expires` (Unix
    /// seconds): `false` if it was used before, so each token opens one session.
    pub async fn use_login_token(&self, token_hash: &str, expires: i64) -> StoreResult<bool> {
        let key = keys::console_login(token_hash);
        let mut item = serde_json::Map::new();
        item.insert(attr::PK.into(), Value::String(key.pk));
        item.insert(attr::SK.into(), Value::String(key.sk));
        item.insert(
            attr::TYPE.into(),
            Value::String(entity::CONSOLE_LOGIN.into()),
        );
        item.insert(attr::TTL.into(), Value::from(expires));
        match self
            .store
            .write(WriteOp::Put {
                item,
                condition: Some(Condition::NotExists),
            })
            .await
        {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    pub async fn settings(&self, app: &AppId) -> StoreResult<Option<ProgramSettings>> {
        super::record(self.store, &keys::settings(app), true).await
    }

    /// Replaces the settings of an existing app, with `audit` (a transaction of
    /// the two, rather than a single write, so the entry cannot go missing).
    pub async fn put_settings(
        &self,
        app: &AppId,
        settings: &ProgramSettings,
        audit: &AuditEntry,
    ) -> StoreResult<bool> {
        let item = to_item(&keys::settings(app), entity::SETTINGS, settings)?;
        match self
            .store
            .transact(vec![
                WriteOp::Put {
                    item,
                    condition: Some(Condition::Exists),
                },
                super::audit::put_entry(audit)?,
            ])
            .await
        {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Adds an API key to an existing app; `None` if the app does not exist. The
    /// audit entry is made here, by `actor`, because the key's id is.
    pub async fn create_api_key(
        &self,
        app: &AppId,
        kind: KeyKind,
        label: Option<&str>,
        actor: &Actor,
    ) -> StoreResult<Option<(ApiKeyRecord, NewApiKey)>> {
        let (record, secret, item) = new_key_item(app, kind, label)?;
        let audit = AuditEntry::new(
            app.clone(),
            actor.clone(),
            AuditAction::ApiKeyCreated,
            AuditSubject::new(SubjectKind::ApiKey, &record.id),
        )
        .with_summary(format!("{} key", kind.as_str()));
        let result = self
            .store
            .transact(vec![
                WriteOp::Check {
                    key: keys::app(app),
                    condition: Condition::Exists,
                },
                WriteOp::Put {
                    item,
                    condition: Some(Condition::NotExists),
                },
                super::audit::put_entry(&audit)?,
            ])
            .await;
        match result {
            Ok(()) => Ok(Some((record, secret))),
            Err(StoreError::ConditionFailed { index: 0 }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// The key whose secret hashes to `hash`, revoked or not.
    pub async fn find_api_key(&self, hash: &ApiKeyHash) -> StoreResult<Option<ApiKeyRecord>> {
        self.store
            // Consistent: a key used the moment it is created must be found (a miss
            // is remembered by the key cache).
            .get(&keys::api_key(hash.as_str()), true)
            .await?
            .map(from_item)
            .transpose()
    }

    /// [`Apps::find_api_key`] and `read`, in one round trip (strongly consistent).
    /// The caller must not use the read's records unless the key verifies and is
    /// the app's the read was made for.
    pub async fn api_key_with<R: super::reads::Read>(
        &self,
        hash: &ApiKeyHash,
        read: &R,
    ) -> StoreResult<(Option<ApiKeyRecord>, R::Output)> {
        let mut wanted = vec![keys::api_key(hash.as_str())];
        wanted.extend(read.keys());
        let mut items = self.store.get_many(&wanted, true).await?;
        let rest = items.split_off(1);
        let record = items.pop().flatten().map(from_item).transpose()?;
        Ok((record, read.parse(rest)?))
    }

    pub async fn list_api_keys(&self, app: &AppId) -> StoreResult<Vec<ApiKeyRecord>> {
        super::all(
            self.store,
            Query::partition(Index::Gsi1, keys::api_keys_of_app(app)),
        )
        .await
    }

    /// Marks a key revoked, by `actor`. Warm functions may accept it until their key
    /// cache entry expires (see `API_KEY_CACHE_SECONDS`).
    pub async fn revoke_api_key(
        &self,
        app: &AppId,
        key_id: &ApiKeyId,
        actor: &Actor,
    ) -> StoreResult<Revoked> {
        let mut query = Query::partition(Index::Gsi1, keys::api_keys_of_app(app));
        query.sort = SortKey::Between(key_id.to_string(), key_id.to_string());
        let page = self.store.query(&query).await?;
        let Some(item) = page.items.into_iter().next() else {
            return Ok(Revoked::NotFound);
        };
        let key = crate::table::key_of(&item)?;
        let mut update = Update::default();
        update.set.insert(
            "revokedAt".into(),
            Value::String(format_time(partner_domain::now())?),
        );
        let audit = AuditEntry::new(
            app.clone(),
            actor.clone(),
            AuditAction::ApiKeyRevoked,
            AuditSubject::new(SubjectKind::ApiKey, key_id),
        );
        let result = self
            .store
            .transact(vec![
                WriteOp::Update {
                    key,
                    update,
                    condition: Some(Condition::Equals("appId", Value::String(app.to_string()))),
                },
                super::audit::put_entry(&audit)?,
            ])
            .await;
        match result {
            Ok(()) => Ok(Revoked::Revoked),
            Err(StoreError::ConditionFailed { .. }) => Ok(Revoked::NotFound),
            Err(err) => Err(err),
        }
    }
}

fn format_time(at: partner_domain::Timestamp) -> StoreResult<String> {
    at.format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| StoreError::Invalid(e.to_string()))
}

fn new_key_item(
    app: &AppId,
    kind: KeyKind,
    label: Option<&str>,
) -> StoreResult<(ApiKeyRecord, NewApiKey, crate::Item)> {
    let secret = NewApiKey::generate(app, kind);
    let record = ApiKeyRecord {
        id: ApiKeyId::generate(),
        app_id: app.clone(),
        kind,
        display_prefix: secret.display_prefix(),
        label: label.map(str::to_owned),
        created_at: partner_domain::now(),
        revoked_at: None,
    };
    let key: Key = keys::api_key(secret.hash().as_str());
    let item = with_index(
        to_item(&key, entity::API_KEY, &record)?,
        attr::GSI1_PK,
        attr::GSI1_SK,
        keys::api_keys_of_app(app),
        record.id.to_string(),
    );
    Ok((record, secret, item))
}
