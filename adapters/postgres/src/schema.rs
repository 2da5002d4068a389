//! The tables, as diesel sees them (kept in step with `migrations/`).

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        task_count -> Int4,
        credential_version -> Int8,
        email_verified -> Bool,
    }
}

diesel::table! {
    tasks (id) {
        id -> Int8,
        user_id -> Uuid,
        title -> Text,
        description -> Nullable<Text>,
        completed -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        ended_at -> Nullable<Timestamptz>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    security_events (id) {
        id -> Int8,
        user_id -> Uuid,
        kind -> Text,
        at -> Timestamptz,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::joinable!(tasks -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(security_events -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, tasks, sessions, security_events);

diesel::table! {
    account_throttle (key) {
        key -> Text,
        failures -> Int4,
        locked_until -> Nullable<Timestamptz>,
        expires_at -> Timestamptz,
        pending -> Int4,
        pending_until -> Nullable<Timestamptz>,
        lock_reported -> Bool,
    }
}

diesel::table! {
    mail_links (digest) {
        digest -> Bytea,
        user_id -> Uuid,
        purpose -> Text,
        email -> Text,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Uuid,
        user_id -> Uuid,
        kind -> Text,
        recipient -> Text,
        sealed -> Nullable<Bytea>,
        queued_at -> Timestamptz,
        due_at -> Timestamptz,
        failures -> Int4,
        claim -> Nullable<Uuid>,
        claimed_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    mail_log (id) {
        id -> Int8,
        user_id -> Uuid,
        kind -> Text,
        at -> Timestamptz,
    }
}

diesel::joinable!(mail_links -> users (user_id));
diesel::joinable!(mail_outbox -> users (user_id));
diesel::joinable!(mail_log -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, mail_links, mail_outbox, mail_log);
