//! The list of DMSs a person may see (`GET /api/systems`), kept ready to send.
//!
//! The home page of every person reads it, and for an organization with 1,000 DMSs it is
//! 250 KB of JSON: reading it from the database, serializing and compressing it for every
//! request costs milliseconds. So each distinct set of organizations has one cached body,
//! plain and gzip-compressed, valid while the hub's [`LiveHub::version`] has not moved (it
//! moves on every state change, registration, removal, rename and membership change) and for
//! at most [`FRESH_FOR`], because last-online times, versions and agent counts change with
//! heartbeats without moving it. When only that age has passed, one request refreshes the
//! body while the others are answered with the previous one.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;
use stratus_shared::api::organizations::System;

use crate::db::Database;
use crate::domain::{organizations, systems};
use crate::error::AppError;
use crate::live::LiveHub;

/// How long a body may be served while only heartbeat-borne details can have changed.
pub const FRESH_FOR: Duration = Duration::from_secs(2);
/// Bounds the memory of the cache: past this many people (or organization sets), it starts
/// over. Each entry of the people map is small; each body is about 250 bytes a DMS.
const MOST_ENTRIES: usize = 10_000;

/// A list body in the encodings the server offers.
#[derive(Debug)]
pub struct EncodedList {
    pub json: Bytes,
    pub gzip: Bytes,
}

impl EncodedList {
    fn encode(systems: &[System]) -> anyhow::Result<Self> {
        let json = serde_json::to_vec(systems)?;
        // Level 6 (the default) is within a few percent of 9 on JSON, at half the time.
        let mut encoder =
            GzEncoder::new(Vec::with_capacity(json.len() / 8), Compression::default());
        encoder.write_all(&json)?;
        let gzip = encoder.finish()?;
        Ok(Self {
            json: json.into(),
            gzip: gzip.into(),
        })
    }
}

struct Cached<T> {
    version: u64,
    made_at: Instant,
    value: T,
}

impl<T> Cached<T> {
    fn matches(&self, version: u64) -> bool {
        self.version == version
    }

    fn fresh(&self, version: u64) -> bool {
        self.matches(version) && self.made_at.elapsed() < FRESH_FOR
    }
}

/// The body of one set of organizations, and who is refreshing it.
#[derive(Default)]
struct Slot {
    current: RwLock<Option<Arc<Cached<Arc<EncodedList>>>>>,
    /// Held while the body is rebuilt, so a crowd of requests rebuilds it once.
    rebuilding: tokio::sync::Mutex<()>,
}

/// The cache; one per server process, cheap to clone.
#[derive(Clone, Default)]
pub struct SystemListCache {
    /// Each person's organizations (sorted, joined: the key of `lists`).
    organizations: Arc<Mutex<HashMap<String, Cached<Arc<str>>>>>,
    lists: Arc<Mutex<HashMap<Arc<str>, Arc<Slot>>>>,
}

impl SystemListCache {
    /// Every DMS of `user_id`'s organizations, with its live state, ordered by name.
    pub async fn visible_to(
        &self,
        user_id: &str,
        database: &Database,
        hub: &LiveHub,
    ) -> Result<Arc<EncodedList>, AppError> {
        // Read before any data: a change after this point moves the version, so a body
        // built from older data is never stored under a newer version.
        let version = hub.version();
        let key = self.organizations_of(user_id, version, database).await?;
        let slot = self.slot(&key);
        let current = slot
            .current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        if let Some(current) = current.filter(|current| current.matches(version)) {
            if current.fresh(version) {
                return Ok(current.value.clone());
            }
            // Only heartbeat-borne details may be older than FRESH_FOR: if someone is
            // refreshing already, this one answer may be that much older.
            let Ok(_rebuilding) = slot.rebuilding.try_lock() else {
                return Ok(current.value.clone());
            };
            return self.rebuild(&slot, &key, version, database, hub).await;
        }
        let _rebuilding = slot.rebuilding.lock().await;
        let current = slot
            .current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        if let Some(current) = current.filter(|current| current.fresh(version)) {
            return Ok(current.value.clone());
        }
        self.rebuild(&slot, &key, version, database, hub).await
    }

    /// Rebuilds a slot's body (its `rebuilding` lock held by the caller).
    async fn rebuild(
        &self,
        slot: &Slot,
        key: &str,
        version: u64,
        database: &Database,
        hub: &LiveHub,
    ) -> Result<Arc<EncodedList>, AppError> {
        let organization_ids: Vec<String> = key
            .split(',')
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect();
        let records = database
            .run(move |connection| Ok(systems::in_organizations(connection, &organization_ids)?))
            .await?;
        let hub = hub.clone();
        let encoded = actix_web::web::block(move || {
            let systems: Vec<System> = records
                .into_iter()
                .map(|record| record.into_system(&hub))
                .collect();
            EncodedList::encode(&systems)
        })
        .await
        .map_err(anyhow::Error::from)??;
        let encoded = Arc::new(encoded);
        *slot
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::new(Cached {
            version,
            made_at: Instant::now(),
            value: encoded.clone(),
        }));
        Ok(encoded)
    }

    /// The key of `user_id`'s organizations, read from the database when the version moved.
    async fn organizations_of(
        &self,
        user_id: &str,
        version: u64,
        database: &Database,
    ) -> Result<Arc<str>, AppError> {
        if let Some(cached) = self.lock_organizations().get(user_id) {
            if cached.matches(version) {
                return Ok(cached.value.clone());
            }
        }
        let user = user_id.to_owned();
        let mut ids = database
            .run(move |connection| Ok(organizations::ids_of(connection, &user)?))
            .await?;
        ids.sort();
        let key: Arc<str> = ids.join(",").into();
        let mut people = self.lock_organizations();
        if people.len() >= MOST_ENTRIES {
            people.clear();
        }
        people.insert(
            user_id.to_owned(),
            Cached {
                version,
                made_at: Instant::now(),
                value: key.clone(),
            },
        );
        Ok(key)
    }

    fn slot(&self, key: &Arc<str>) -> Arc<Slot> {
        let mut lists = self
            .lists
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !lists.contains_key(key) && lists.len() >= MOST_ENTRIES {
            lists.clear();
        }
        lists.entry(key.clone()).or_default().clone()
    }

    fn lock_organizations(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached<Arc<str>>>> {
        self.organizations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
