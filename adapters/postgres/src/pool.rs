//! The connection pool.

use std::sync::Arc;
use std::time::Duration;

use diesel::{ConnectionError, QueryResult};
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use futures_util::FutureExt;
use tessera_application::ports::RepoError;
use thread_local::ThreadLocal;

use crate::error::{pool_error, query_error};

/// Pool sizes and time limits.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// Most connections open at once for tasks.
    pub max_size: usize,
    /// Most connections open at once for accounts, sessions and limits: a pool apart, so
    /// that slow or locked task queries never keep signin, the guard or `/ready` waiting.
    pub auth_max_size: usize,
    /// Longest a statement may run before the database cancels it.
    pub statement_timeout: Duration,
    /// Longest a statement may wait for a lock before the database cancels it.
    pub lock_timeout: Duration,
    /// Threads that handle requests: each gets its share of each pool.
    pub threads: usize,
    /// Longest wait for a free connection before answering "unavailable".
    pub wait_timeout: Duration,
    /// Longest time to open a new connection.
    pub connect_timeout: Duration,
}

/// The pool's state, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Most connections.
    pub max_size: usize,
    /// Connections open.
    pub size: usize,
    /// Open connections not in use.
    pub available: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
}

/// A Postgres database behind two pools: what every Postgres repository shares.
#[derive(Clone)]
pub struct PgStore {
    tasks: Arc<ThreadPools>,
    auth: Arc<ThreadPools>,
}

/// One pool per thread that uses the store, each an equal share of the configured size,
/// or one shared pool when the size is under two connections a thread.
///
/// A connection's I/O runs as a task on the runtime of the thread that opened it. The
/// HTTP server runs one single-threaded runtime per worker; with one pool for all of
/// them, nearly every statement would be handed to another worker's thread and its
/// answer handed back, two cross-thread wake-ups per statement. With a pool per thread
/// a request's statements stay on the thread that handles the request.
struct ThreadPools {
    url: String,
    settings: PoolSettings,
    total: usize,
    size: usize,
    pools: ThreadLocal<Pool<AsyncPgConnection>>,
    /// One pool for every thread, when the total is too small to share out (fewer than
    /// two connections a thread): then the configured size holds exactly.
    shared: Option<Pool<AsyncPgConnection>>,
}

impl ThreadPools {
    fn new(url: &str, settings: PoolSettings, total: usize) -> Result<Self, RepoError> {
        let threads = settings.threads.max(1);
        let shared = if total < threads.saturating_mul(2) {
            Some(pool(url, settings, total)?)
        } else {
            None
        };
        Ok(Self {
            url: url.to_owned(),
            settings,
            total,
            // Never more than the configured total over the request threads together.
            size: total / threads,
            pools: ThreadLocal::new(),
            shared,
        })
    }

    fn here(&self) -> Result<&Pool<AsyncPgConnection>, RepoError> {
        match &self.shared {
            Some(shared) => Ok(shared),
            None => self
                .pools
                .get_or_try(|| pool(&self.url, self.settings, self.size)),
        }
    }

    async fn get(&self) -> Result<Object<AsyncPgConnection>, RepoError> {
        self.here()?.get().await.map_err(pool_error)
    }

    fn status(&self) -> PoolStatus {
        if let Some(shared) = &self.shared {
            return status(shared);
        }
        self.pools.iter().map(status).fold(
            PoolStatus {
                max_size: self.total,
                size: 0,
                available: 0,
                waiting: 0,
            },
            |total, pool| PoolStatus {
                max_size: total.max_size,
                size: total.size + pool.size,
                available: total.available + pool.available,
                waiting: total.waiting + pool.waiting,
            },
        )
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl PgStore {
    /// Pools for `url`. No connection is opened until one is needed. Every connection
    /// gets the statement and lock timeouts when it opens.
    ///
    /// # Errors
    /// Only if a pool cannot be built (a bug, not a database state).
    pub fn new(url: &str, settings: PoolSettings) -> Result<Self, RepoError> {
        // Building a pool opens nothing; building one now catches a bad URL at start.
        pool(url, settings, 1)?;
        Ok(Self {
            tasks: Arc::new(ThreadPools::new(url, settings, settings.max_size)?),
            auth: Arc::new(ThreadPools::new(url, settings, settings.auth_max_size)?),
        })
    }

    /// A connection for task statements.
    pub(crate) async fn conn(&self) -> Result<Object<AsyncPgConnection>, RepoError> {
        self.tasks.get().await
    }

    /// Runs `work` on a task connection. If the caller gives up before `work` ends (its
    /// client hung up and the request was dropped), the connection leaves the pool and
    /// its statement is cancelled: a query waiting on a lock or running long stops
    /// holding a connection and a backend for a client that is gone.
    pub(crate) async fn on_tasks<T>(
        &self,
        work: impl AsyncFnOnce(&mut AsyncPgConnection) -> QueryResult<T>,
    ) -> Result<T, RepoError> {
        Self::finishing(self.conn().await?, work).await
    }

    /// [`Self::on_tasks`] on an accounts connection: for transactions that lock rows, so
    /// that a request dropped halfway never leaves a transaction open on a pooled
    /// connection.
    pub(crate) async fn on_auth<T>(
        &self,
        work: impl AsyncFnOnce(&mut AsyncPgConnection) -> QueryResult<T>,
    ) -> Result<T, RepoError> {
        Self::finishing(self.auth_conn().await?, work).await
    }

    async fn finishing<T>(
        conn: Object<AsyncPgConnection>,
        work: impl AsyncFnOnce(&mut AsyncPgConnection) -> QueryResult<T>,
    ) -> Result<T, RepoError> {
        let mut checkout = CancelUnlessFinished(Some(conn));
        let result = match checkout.0.as_mut() {
            Some(conn) => work(conn).await,
            None => return Err(RepoError::Other("connection checkout lost".into())),
        };
        // Finished: the connection goes back to the pool as usual.
        drop(checkout.0.take());
        result.map_err(query_error)
    }

    /// A connection for accounts, sessions and limits.
    pub(crate) async fn auth_conn(&self) -> Result<Object<AsyncPgConnection>, RepoError> {
        self.auth.get().await
    }

    /// Whether the database answers a trivial query (through the accounts pool, which
    /// slow task queries cannot exhaust).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] when it does not.
    pub async fn ping(&self) -> Result<(), RepoError> {
        let mut conn = self.auth_conn().await?;
        diesel::sql_query("SELECT 1")
            .execute(&mut conn)
            .await
            .map(drop)
            .map_err(query_error)
    }

    /// The state of the tasks pool and of the accounts pool right now.
    #[must_use]
    pub fn status(&self) -> [PoolStatus; 2] {
        [self.tasks.status(), self.auth.status()]
    }
}

/// A checked-out connection whose work may not have finished when this is dropped.
struct CancelUnlessFinished(Option<Object<AsyncPgConnection>>);

impl Drop for CancelUnlessFinished {
    fn drop(&mut self) {
        let Some(object) = self.0.take() else {
            return;
        };
        // Out of the pool, so that no later request can be hit by the cancellation.
        let conn = Object::take(object);
        let token = conn.cancel_token();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = token.cancel_query(tokio_postgres::NoTls).await;
                drop(conn);
            });
        }
    }
}

fn status(pool: &Pool<AsyncPgConnection>) -> PoolStatus {
    let status = pool.status();
    PoolStatus {
        max_size: status.max_size,
        size: status.size,
        available: status.available,
        waiting: status.waiting,
    }
}

fn pool(
    url: &str,
    settings: PoolSettings,
    max_size: usize,
) -> Result<Pool<AsyncPgConnection>, RepoError> {
    // A session left idle inside a transaction (its client vanished halfway) is ended by
    // the server, so that the row locks it holds cannot outlive a statement's timeout.
    let setup = format!(
        "SET statement_timeout = {statement}; SET lock_timeout = {lock}; \
         SET idle_in_transaction_session_timeout = {statement}",
        statement = settings.statement_timeout.as_millis(),
        lock = settings.lock_timeout.as_millis()
    );
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    // A connection whose socket closed or whose transaction broke is seen without a
    // round trip; a `SELECT 1` on every checkout would double the round trips of a
    // one-statement request.
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |url| {
        let setup = setup.clone();
        async move {
            let mut conn = AsyncPgConnection::establish(url).await?;
            conn.batch_execute(&setup)
                .await
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        }
        .boxed()
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    Pool::builder(manager)
        .max_size(max_size)
        .wait_timeout(Some(settings.wait_timeout))
        .create_timeout(Some(settings.connect_timeout))
        .recycle_timeout(Some(settings.connect_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| RepoError::Other(Box::new(e)))
}

/// A database URL fit for a log line: the password, if any, is replaced by `***`.
#[must_use]
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(unparseable URL)".to_owned();
    };
    // The credentials end at the last '@': a password may itself hold '/', '?' or '@'.
    let (credentials, location) = match rest.rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let location = match location.find(['/', '?']) {
        Some(at) => {
            let (host, tail) = location.split_at(at);
            format!("{host}{}", redact_query_password(tail))
        }
        None => location.to_owned(),
    };
    match credentials {
        Some(credentials) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{location}"),
            None => format!("{scheme}://{credentials}@{location}"),
        },
        None => format!("{scheme}://{location}"),
    }
}

/// Hides the value of a `password=` query parameter.
fn redact_query_password(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_a_log_line() {
        assert_eq!(
            redact("postgres://alice:s3cret@db.example:5432/tessera?sslmode=require"),
            "postgres://alice:***@db.example:5432/tessera?sslmode=require"
        );
        assert_eq!(
            redact("postgresql://alice@localhost/tessera"),
            "postgresql://alice@localhost/tessera"
        );
        assert_eq!(redact("postgres://localhost"), "postgres://localhost");
        assert!(!redact("postgres://u:p@ss@h/db").contains("p@ss"));
        assert_eq!(redact("not a url"), "(unparseable URL)");
        for password in ["se/cret", "se?cret", "se@cret", "a:b"] {
            let redacted = redact(&format!("postgres://alice:{password}@db:5432/tessera"));
            assert_eq!(
                redacted, "postgres://alice:***@db:5432/tessera",
                "{password}"
            );
        }
        assert_eq!(
            redact("postgres://h/db?sslmode=require&password=topsecret"),
            "postgres://h/db?sslmode=require&password=***"
        );
    }
}
