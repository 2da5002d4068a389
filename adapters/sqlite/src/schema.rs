//! The tables, as diesel sees them (kept in step with `migrations/`): ids as text, instants
//! as microseconds since the epoch, flags as integers that diesel reads as booleans.

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        task_count -> Integer,
        credential_version -> BigInt,
        email_verified -> Bool,
    }
}

diesel::table! {
    tasks (id) {
        id -> BigInt,
        user_id -> Text,
        title -> Text,
        description -> Nullable<Text>,
        completed -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        ended_at -> Nullable<BigInt>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    security_events (id) {
        id -> BigInt,
        user_id -> Text,
        kind -> Text,
        at -> BigInt,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    rate_limits (key) {
        key -> Text,
        tat -> BigInt,
    }
}

diesel::table! {
    account_throttle (key) {
        key -> Text,
        failures -> Integer,
        locked_until -> Nullable<BigInt>,
        expires_at -> BigInt,
        pending -> Integer,
        pending_until -> Nullable<BigInt>,
        lock_reported -> Bool,
    }
}

diesel::table! {
    mail_links (digest) {
        digest -> Binary,
        user_id -> Text,
        purpose -> Text,
        email -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Text,
        user_id -> Text,
        kind -> Text,
        recipient -> Text,
        sealed -> Nullable<Binary>,
        queued_at -> BigInt,
        due_at -> BigInt,
        failures -> Integer,
        claim -> Nullable<Text>,
        claimed_until -> Nullable<BigInt>,
    }
}

diesel::table! {
    mail_log (id) {
        id -> BigInt,
        user_id -> Text,
        kind -> Text,
        at -> BigInt,
    }
}

diesel::joinable!(tasks -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(security_events -> users (user_id));
diesel::joinable!(mail_links -> users (user_id));
diesel::joinable!(mail_outbox -> users (user_id));
diesel::joinable!(mail_log -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    tasks,
    sessions,
    security_events,
    mail_links,
    mail_outbox,
    mail_log
);
