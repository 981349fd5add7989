//! Remote access to a DMS's web apps: the DMS's own host (`<label>.<remote domain>`), the
//! single-use tickets the portal hands a browser, the sessions they become on that host, and
//! the check every tunnelled request passes: the session is the host's, its person is still a
//! member whose role allows remote access, and both switches (the DMS's and its
//! organization's) are on.

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use stratus_shared::api::organizations::{remote_label, SystemUser};

use crate::auth::one_time;
use crate::auth::permissions::{allows, Action};
use crate::db::schema::{
    memberships, organizations, remote_sessions, remote_tickets, systems, users,
};
use crate::db::AnyConnection;
use crate::domain::{memberships as membership_rules, systems::record_change};
use crate::error::AppError;

/// How long a ticket may wait to be posted to the DMS's host.
pub const TICKET_LIFETIME: TimeDelta = TimeDelta::seconds(60);

/// Where DMSs are reached: `<scheme>://<label>.<domain>[:<port>]`, the scheme and port being
/// the portal's own (so `http://main-acme.remote.localhost:8080` beside a portal on
/// `http://127.0.0.1:8080`).
#[derive(Debug, Clone)]
pub struct RemoteHosts {
    scheme: String,
    domain: String,
    port: Option<u16>,
}

/// The default remote-access domain: Chromium and Firefox resolve every `*.localhost` name to
/// the loopback address, so it needs no DNS on a developer's machine.
pub const DEFAULT_DOMAIN: &str = "remote.localhost";

impl RemoteHosts {
    /// From the configured domain (empty: [`DEFAULT_DOMAIN`]) and the portal's public URL.
    pub fn new(domain: &str, public_url: &str) -> Self {
        let domain = domain.trim().trim_matches('.').to_ascii_lowercase();
        let domain = if domain.is_empty() {
            DEFAULT_DOMAIN.to_owned()
        } else {
            domain
        };
        let portal = url::Url::parse(public_url).ok();
        Self {
            scheme: portal
                .as_ref()
                .map_or("http", |url| url.scheme())
                .to_owned(),
            port: portal.as_ref().and_then(url::Url::port),
            domain,
        }
    }

    /// The origin of the DMS with host label `label`.
    pub fn origin(&self, label: &str) -> String {
        match self.port {
            Some(port) => format!("{}://{label}.{}:{port}", self.scheme, self.domain),
            None => format!("{}://{label}.{}", self.scheme, self.domain),
        }
    }

    /// Every DMS origin as a CSP source (`http://*.remote.localhost:8080`): where the
    /// portal's ticket form may post.
    pub fn csp_source(&self) -> String {
        self.origin("*")
    }

    /// Whether remote origins are https (their cookies are then `Secure`).
    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }

    /// The DMS label a request's `Host` names, when it is a remote-access host: one DNS label
    /// directly under the domain (any port: the portal's may be rewritten by a proxy).
    pub fn label_of<'a>(&self, host: &'a str) -> Option<&'a str> {
        let name = match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        };
        let suffix_start = name.len().checked_sub(self.domain.len() + 1)?;
        let (label, suffix) = name.split_at(suffix_start);
        let is_ours = suffix
            .strip_prefix('.')
            .is_some_and(|domain| domain.eq_ignore_ascii_case(&self.domain));
        let is_label = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        (is_ours && is_label).then_some(label)
    }
}

/// Gives a DMS its host label from its name and organization (numbered when another DMS has
/// it), after registration or a rename.
pub fn assign_label(connection: &mut AnyConnection, system_id: &str) -> QueryResult<String> {
    let (name, slug): (String, String) = systems::table
        .inner_join(organizations::table)
        .filter(systems::id.eq(system_id))
        .select((systems::name, organizations::slug))
        .first(connection)?;
    let base = remote_label(&name, &slug)
        .unwrap_or_else(|| format!("dms-{}", system_id.chars().take(8).collect::<String>()));
    let mut number = 1;
    let label = loop {
        let candidate = if number == 1 {
            base.clone()
        } else {
            format!("{base}-{number}")
        };
        let taken: i64 = systems::table
            .filter(systems::remote_label.eq(&candidate))
            .filter(systems::id.ne(system_id))
            .count()
            .get_result(connection)?;
        if taken == 0 {
            break candidate;
        }
        number += 1;
    };
    diesel::update(systems::table.find(system_id))
        .set(systems::remote_label.eq(&label))
        .execute(connection)?;
    Ok(label)
}

/// Labels every DMS stored without one (registered before remote access had hosts).
pub fn assign_missing_labels(connection: &mut AnyConnection) -> QueryResult<usize> {
    let missing: Vec<String> = systems::table
        .filter(systems::remote_label.is_null())
        .select(systems::id)
        .load(connection)?;
    for system_id in &missing {
        assign_label(connection, system_id)?;
    }
    Ok(missing.len())
}

/// A ticket for `user_id` (who may open the DMS, checked already) to open `system_id`
/// remotely. Only its hash is stored.
pub fn issue_ticket(
    connection: &mut AnyConnection,
    user_id: &str,
    system_id: &str,
    now: DateTime<Utc>,
) -> QueryResult<(String, DateTime<Utc>)> {
    let ticket = one_time::generate("srt_");
    let expires_at = now + TICKET_LIFETIME;
    // Tickets nobody posted are of no use once expired.
    diesel::delete(remote_tickets::table.filter(remote_tickets::expires_at.lt(now.naive_utc())))
        .execute(connection)?;
    diesel::insert_into(remote_tickets::table)
        .values((
            remote_tickets::ticket_hash.eq(one_time::hash(&ticket)),
            remote_tickets::system_id.eq(system_id),
            remote_tickets::user_id.eq(user_id),
            remote_tickets::created_at.eq(now.naive_utc()),
            remote_tickets::expires_at.eq(expires_at.naive_utc()),
        ))
        .execute(connection)?;
    Ok((ticket, expires_at))
}

/// The DMS at a remote host, as the checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteTarget {
    pub system_id: String,
    pub organization_id: String,
    pub name: String,
    pub label: String,
}

/// Why a remote request is refused (each is a page on the DMS's host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No valid session of this host: open the DMS from the portal. Also what an unknown
    /// host answers, so that host names cannot be probed.
    NoSession,
    /// The ticket was unknown, used, expired, or for another DMS.
    BadTicket,
    /// The person is no longer a member of the DMS's organization, or their role does not
    /// allow remote access.
    NotMember,
    /// Remote access is off: by the DMS's own switch, or forced off by its organization.
    /// `managers` are who can switch it on (the organization's Owners and Admins).
    Off {
        by_organization: bool,
        managers: Vec<String>,
    },
}

/// A person allowed through to the DMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    pub target: RemoteTarget,
    pub user_id: String,
}

/// Spends `ticket` at the host `label`: a new session for the ticket's person (its secret is
/// returned, to become the host's cookie), audited, when the ticket is valid, for this host,
/// and the person may still open the DMS.
pub fn redeem_ticket(
    connection: &mut AnyConnection,
    label: &str,
    ticket: &str,
    now: DateTime<Utc>,
    session_lifetime: TimeDelta,
) -> Result<Result<(String, Admitted), Refusal>, AppError> {
    let hash = one_time::hash(ticket);
    // Spent first, conditionally: of two posts of one ticket, one wins.
    let spent = diesel::update(
        remote_tickets::table
            .filter(remote_tickets::ticket_hash.eq(&hash))
            .filter(remote_tickets::used_at.is_null())
            .filter(remote_tickets::expires_at.gt(now.naive_utc())),
    )
    .set(remote_tickets::used_at.eq(now.naive_utc()))
    .execute(connection)?;
    if spent == 0 {
        return Ok(Err(Refusal::BadTicket));
    }
    let (system_id, user_id): (String, String) = remote_tickets::table
        .find(&hash)
        .select((remote_tickets::system_id, remote_tickets::user_id))
        .first(connection)?;
    let Some(target) = target_at(connection, label)? else {
        return Ok(Err(Refusal::BadTicket));
    };
    if target.system_id != system_id {
        return Ok(Err(Refusal::BadTicket));
    }
    if let Err(refusal) = may_open(connection, &target, &user_id)? {
        return Ok(Err(refusal));
    }
    let secret = one_time::generate("srs_");
    diesel::insert_into(remote_sessions::table)
        .values((
            remote_sessions::session_hash.eq(one_time::hash(&secret)),
            remote_sessions::system_id.eq(&target.system_id),
            remote_sessions::user_id.eq(&user_id),
            remote_sessions::created_at.eq(now.naive_utc()),
            remote_sessions::expires_at.eq((now + session_lifetime).naive_utc()),
        ))
        .execute(connection)?;
    diesel::delete(remote_sessions::table.filter(remote_sessions::expires_at.lt(now.naive_utc())))
        .execute(connection)?;
    record_change(
        connection,
        &user_id,
        &target.organization_id,
        &target.system_id,
        "system.remote_opened",
        "Opened the DMS remotely",
    )?;
    Ok(Ok((secret, Admitted { target, user_id })))
}

/// The check of every tunnelled request: the session `secret` (the host's cookie) is valid
/// for the DMS at `label` and its person may open it now.
pub fn admit(
    connection: &mut AnyConnection,
    label: &str,
    secret: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Result<Admitted, Refusal>, AppError> {
    let Some(secret) = secret else {
        return Ok(Err(Refusal::NoSession));
    };
    let session: Option<(String, String)> = remote_sessions::table
        .find(one_time::hash(secret))
        .filter(remote_sessions::expires_at.gt(now.naive_utc()))
        .select((remote_sessions::system_id, remote_sessions::user_id))
        .first(connection)
        .optional()?;
    let Some((system_id, user_id)) = session else {
        return Ok(Err(Refusal::NoSession));
    };
    let Some(target) = target_at(connection, label)? else {
        return Ok(Err(Refusal::NoSession));
    };
    if target.system_id != system_id {
        return Ok(Err(Refusal::NoSession));
    }
    Ok(may_open(connection, &target, &user_id)?.map(|()| Admitted { target, user_id }))
}

/// The DMS whose host label is `label`.
pub fn target_at(connection: &mut AnyConnection, label: &str) -> QueryResult<Option<RemoteTarget>> {
    systems::table
        .filter(systems::remote_label.eq(label))
        .select((systems::id, systems::organization_id, systems::name))
        .first::<(String, String, String)>(connection)
        .optional()
        .map(|found| {
            found.map(|(system_id, organization_id, name)| RemoteTarget {
                system_id,
                organization_id,
                name,
                label: label.to_owned(),
            })
        })
}

/// Whether `user_id` may open `target` remotely now: a member whose role on the DMS allows
/// it, with both switches on.
fn may_open(
    connection: &mut AnyConnection,
    target: &RemoteTarget,
    user_id: &str,
) -> Result<Result<(), Refusal>, AppError> {
    let Some(organization_role) =
        membership_rules::role_of(connection, &target.organization_id, user_id)?
    else {
        return Ok(Err(Refusal::NotMember));
    };
    let system_role = membership_rules::system_role_of(connection, &target.system_id, user_id)?;
    if !allows(
        SystemUser::effective(organization_role, system_role),
        Action::OpenRemotely,
    ) {
        return Ok(Err(Refusal::NotMember));
    }
    let (system_switch, organization_switch): (i32, i32) = systems::table
        .inner_join(organizations::table)
        .filter(systems::id.eq(&target.system_id))
        .select((
            systems::remote_access_enabled,
            organizations::remote_access_enabled,
        ))
        .first(connection)?;
    if system_switch == 0 || organization_switch == 0 {
        return Ok(Err(Refusal::Off {
            by_organization: organization_switch == 0,
            managers: managers(connection, &target.organization_id)?,
        }));
    }
    Ok(Ok(()))
}

/// The emails of the organization's Owners and Admins: who can switch remote access on.
fn managers(connection: &mut AnyConnection, organization_id: &str) -> QueryResult<Vec<String>> {
    memberships::table
        .inner_join(users::table)
        .filter(memberships::organization_id.eq(organization_id))
        .filter(memberships::role.eq_any(["owner", "admin"]))
        .order(users::email.asc())
        .select(users::email)
        .load(connection)
}

/// Ends `user_id`'s remote sessions on the DMSs of `organization_id` (they left it).
pub fn end_sessions_of_person(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
) -> QueryResult<usize> {
    let in_organization = systems::table
        .filter(systems::organization_id.eq(organization_id))
        .select(systems::id);
    diesel::delete(
        remote_sessions::table
            .filter(remote_sessions::user_id.eq(user_id))
            .filter(remote_sessions::system_id.eq_any(in_organization)),
    )
    .execute(connection)
}

/// The ids of the DMSs of `organization_id`.
pub fn systems_of(
    connection: &mut AnyConnection,
    organization_id: &str,
) -> QueryResult<Vec<String>> {
    systems::table
        .filter(systems::organization_id.eq(organization_id))
        .select(systems::id)
        .load(connection)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_hosts_follow_the_portals_scheme_and_port() {
        let local = RemoteHosts::new("", "http://127.0.0.1:8080");
        assert_eq!(
            local.origin("main-acme"),
            "http://main-acme.remote.localhost:8080"
        );
        let production = RemoteHosts::new(".Remote.Stratus.Example.", "https://stratus.example");
        assert_eq!(
            production.origin("main-acme"),
            "https://main-acme.remote.stratus.example"
        );
        assert!(production.is_https() && !local.is_https());
    }

    #[test]
    fn only_one_label_directly_under_the_domain_is_a_remote_host() {
        let hosts = RemoteHosts::new("remote.localhost", "http://127.0.0.1:8080");
        assert_eq!(
            hosts.label_of("main-acme.remote.localhost:8080"),
            Some("main-acme")
        );
        assert_eq!(
            hosts.label_of("main-acme.REMOTE.localhost"),
            Some("main-acme")
        );
        for other in [
            "127.0.0.1:8080",
            "remote.localhost",
            ".remote.localhost",
            "a.b.remote.localhost",
            "main-acme.remote.localhost.evil.example",
            "main-acmeremote.localhost",
            "Main-Acme.remote.localhost",
            "main_acme.remote.localhost",
            "",
        ] {
            assert_eq!(hosts.label_of(other), None, "{other}");
        }
    }
}
