//! Diesel's view of the tables; mirrors `migrations/{sqlite,postgres}`.

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Nullable<Text>,
        email_verified_at -> Nullable<Timestamp>,
        is_staff -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        slug -> Text,
        created_at -> Timestamp,
        remote_access_enabled -> Integer,
    }
}

diesel::table! {
    cluster_backends (id) {
        id -> Text,
        name -> Text,
        started_at -> Timestamp,
        lease_expires_at -> Timestamp,
        address -> Text,
    }
}

diesel::table! {
    memberships (organization_id, user_id) {
        organization_id -> Text,
        user_id -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    systems (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        created_at -> Timestamp,
        last_online_at -> Nullable<Timestamp>,
        state -> Text,
        first_connected_at -> Nullable<Timestamp>,
        dms_version -> Nullable<Text>,
        agent_count -> Nullable<Integer>,
        token_generation -> Integer,
        remote_access_enabled -> Integer,
        gateway_backend -> Nullable<Text>,
        remote_label -> Nullable<Text>,
    }
}

diesel::table! {
    connect_codes (code_hash) {
        code_hash -> Text,
        system_id -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    gateway_refresh_keys (key_hash) {
        key_hash -> Text,
        system_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    system_state_transitions (id) {
        id -> Text,
        system_id -> Text,
        state -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    email_tokens (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        purpose -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    throttle_events (id) {
        id -> Text,
        bucket -> Text,
        subject_hash -> Text,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        organization_id -> Text,
        email -> Text,
        role -> Text,
        invited_by -> Nullable<Text>,
        created_at -> Timestamp,
        source -> Text,
    }
}

diesel::joinable!(invitations -> organizations (organization_id));

diesel::table! {
    identities (id) {
        id -> Text,
        user_id -> Text,
        provider_id -> Text,
        subject -> Text,
        email -> Text,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
    }
}

diesel::table! {
    provider_logins (cookie_hash) {
        cookie_hash -> Text,
        provider_id -> Text,
        state_hash -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    pending_identity_links (cookie_hash) {
        cookie_hash -> Text,
        mail_token_hash -> Text,
        user_id -> Text,
        provider_id -> Text,
        subject -> Text,
        email -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    system_roles (system_id, user_id) {
        system_id -> Text,
        user_id -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    dms_account_links (system_id, user_id) {
        system_id -> Text,
        user_id -> Text,
        dms_username -> Text,
        linked_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    remote_tickets (ticket_hash) {
        ticket_hash -> Text,
        system_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    remote_sessions (session_hash) {
        session_hash -> Text,
        system_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    dms_link_codes (code_hash) {
        code_hash -> Text,
        system_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        actor_email -> Text,
        by_staff -> Integer,
        organization_id -> Nullable<Text>,
        action -> Text,
        detail -> Text,
    }
}

diesel::table! {
    projects (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        status -> Text,
        start_date -> Nullable<Date>,
        due_date -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    project_tasks (id) {
        id -> Text,
        project_id -> Text,
        title -> Text,
        status -> Text,
        position -> Integer,
    }
}

diesel::table! {
    shared_dashboards (id) {
        id -> Text,
        organization_id -> Text,
        system_id -> Text,
        name -> Text,
        shared_with -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(system_roles -> systems (system_id));
diesel::joinable!(system_roles -> users (user_id));
diesel::joinable!(dms_account_links -> systems (system_id));
diesel::joinable!(dms_account_links -> users (user_id));
diesel::joinable!(memberships -> organizations (organization_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(systems -> organizations (organization_id));
diesel::joinable!(connect_codes -> systems (system_id));
diesel::joinable!(gateway_refresh_keys -> systems (system_id));
diesel::joinable!(system_state_transitions -> systems (system_id));
diesel::joinable!(remote_tickets -> systems (system_id));
diesel::joinable!(remote_sessions -> systems (system_id));
diesel::joinable!(remote_sessions -> users (user_id));
diesel::joinable!(dms_link_codes -> systems (system_id));

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(email_tokens -> users (user_id));
diesel::joinable!(identities -> users (user_id));
diesel::joinable!(pending_identity_links -> users (user_id));
diesel::joinable!(projects -> organizations (organization_id));
diesel::joinable!(project_tasks -> projects (project_id));
diesel::joinable!(shared_dashboards -> organizations (organization_id));
diesel::joinable!(shared_dashboards -> systems (system_id));
diesel::joinable!(shared_dashboards -> users (created_by));

diesel::allow_tables_to_appear_in_same_query!(
    cluster_backends,
    invitations,
    users,
    organizations,
    memberships,
    systems,
    sessions,
    refresh_tokens,
    email_tokens,
    throttle_events,
    connect_codes,
    gateway_refresh_keys,
    system_state_transitions,
    identities,
    provider_logins,
    pending_identity_links,
    system_roles,
    dms_account_links,
    remote_tickets,
    remote_sessions,
    dms_link_codes,
    audit_log,
    projects,
    project_tasks,
    shared_dashboards,
);
