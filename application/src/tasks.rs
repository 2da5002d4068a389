//! The task operations. Every one acts for an owner the HTTP layer has already checked
//! against the caller (see [`tessera_domain::Principal::acting_as`]).

use std::sync::Arc;

use tessera_domain::{ClientAddress, PageQuery, Task, TaskChanges, TaskId, UserId};
use thiserror::Error;

use crate::error::Fault;
use crate::ports::{Clock, NewTask, RepoError, Stores, TaskRepository, UserRepository};
use crate::throttle::Refusal;
use crate::writes::WriteBudget;

/// A page of tasks and the count of all that match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskList {
    /// The tasks, newest first.
    pub tasks: Vec<Task>,
    /// How many tasks match the status filter.
    pub total: u64,
}

/// Why a task operation failed.
#[derive(Debug, Error)]
pub enum TaskError {
    /// No such task for this owner.
    #[error("task not found")]
    NotFound,
    /// The owner holds as many tasks as `MAX_TASKS_PER_USER` allows.
    #[error("task quota reached")]
    QuotaExceeded,
    /// Over a write budget: try again after this long.
    #[error("too many writes")]
    RateLimited(std::time::Duration),
    /// The owner's account no longer exists (deleted while the request was in flight).
    #[error("account gone")]
    OwnerGone,
    /// The server failed.
    #[error(transparent)]
    Fault(#[from] Fault),
}

impl From<RepoError> for TaskError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::NotFound => Self::NotFound,
            RepoError::LimitReached => Self::QuotaExceeded,
            other => Self::Fault(other.into()),
        }
    }
}

impl From<Refusal> for TaskError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Limited(wait) => Self::RateLimited(wait),
            Refusal::Fault(fault) => Self::Fault(fault),
        }
    }
}

/// Who writes: the owner the caller acts as, and the address the request came from
/// (each has its write budget).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskWriter {
    /// The owner of the tasks.
    pub owner: UserId,
    /// The client address of the request.
    pub client: ClientAddress,
}

/// The task use cases.
#[derive(Clone)]
pub struct TaskService {
    tasks: Arc<dyn TaskRepository>,
    owners: Arc<dyn UserRepository>,
    clock: Arc<dyn Clock>,
    max_tasks: u32,
    budget: WriteBudget,
}

impl TaskService {
    /// Builds the service on the stores; an owner may hold at most `max_tasks` tasks.
    /// The accounts tell a task that is gone from an account that is gone.
    #[must_use]
    pub fn new(stores: &Stores, clock: Arc<dyn Clock>, max_tasks: u32) -> Self {
        Self {
            tasks: stores.tasks.clone(),
            owners: stores.users.clone(),
            clock,
            max_tasks,
            budget: WriteBudget::off(),
        }
    }

    /// The same service, with writes counted against `budget`.
    #[must_use]
    pub fn with_write_budget(mut self, budget: WriteBudget) -> Self {
        self.budget = budget;
        self
    }

    /// Counts a write against its budgets, just before it reaches storage.
    async fn admit(&self, writer: TaskWriter) -> Result<(), TaskError> {
        Ok(self.budget.admit(writer.owner, writer.client).await?)
    }

    /// What a storage refusal of a write means: a task (or quota room) that is missing
    /// because the whole account was deleted meanwhile is the account's absence.
    async fn refused(&self, owner: UserId, error: RepoError) -> TaskError {
        if matches!(error, RepoError::NotFound | RepoError::LimitReached)
            && matches!(self.owners.find_by_id(owner).await, Ok(None))
        {
            return TaskError::OwnerGone;
        }
        error.into()
    }

    /// The greatest offset a listing may ask for: an owner's most tasks.
    #[must_use]
    pub fn max_offset(&self) -> u32 {
        self.max_tasks
    }

    /// Lists `owner`'s tasks.
    ///
    /// # Errors
    /// A fault.
    pub async fn list(&self, owner: UserId, query: PageQuery) -> Result<TaskList, TaskError> {
        let page = self
            .tasks
            .list(owner, query.status, query.limit, query.offset)
            .await?;
        Ok(TaskList {
            tasks: page.tasks,
            total: page.total,
        })
    }

    /// Creates a task for `owner`.
    ///
    /// # Errors
    /// [`TaskError::QuotaExceeded`], [`TaskError::RateLimited`], or a fault.
    pub async fn create(&self, writer: TaskWriter, task: NewTask) -> Result<Task, TaskError> {
        self.admit(writer).await?;
        match self
            .tasks
            .create(writer.owner, task, self.clock.now(), self.max_tasks)
            .await
        {
            Ok(task) => Ok(task),
            Err(error) => Err(self.refused(writer.owner, error).await),
        }
    }

    /// One of `owner`'s tasks.
    ///
    /// # Errors
    /// [`TaskError::NotFound`], or a fault.
    pub async fn get(&self, owner: UserId, id: TaskId) -> Result<Task, TaskError> {
        Ok(self.tasks.get(owner, id).await?)
    }

    /// Changes the fields `changes` names (a replacement names title and description).
    ///
    /// # Errors
    /// [`TaskError::NotFound`], [`TaskError::RateLimited`], or a fault.
    pub async fn update(
        &self,
        writer: TaskWriter,
        id: TaskId,
        changes: &TaskChanges,
    ) -> Result<Task, TaskError> {
        self.admit(writer).await?;
        match self
            .tasks
            .update(writer.owner, id, changes, self.clock.now())
            .await
        {
            Ok(task) => Ok(task),
            Err(error) => Err(self.refused(writer.owner, error).await),
        }
    }

    /// Flips a task's completion state.
    ///
    /// # Errors
    /// [`TaskError::NotFound`], or a fault.
    pub async fn toggle(&self, writer: TaskWriter, id: TaskId) -> Result<Task, TaskError> {
        self.admit(writer).await?;
        match self.tasks.toggle(writer.owner, id, self.clock.now()).await {
            Ok(task) => Ok(task),
            Err(error) => Err(self.refused(writer.owner, error).await),
        }
    }

    /// Deletes a task.
    ///
    /// # Errors
    /// [`TaskError::NotFound`], or a fault.
    pub async fn delete(&self, writer: TaskWriter, id: TaskId) -> Result<(), TaskError> {
        self.admit(writer).await?;
        match self.tasks.delete(writer.owner, id).await {
            Ok(()) => Ok(()),
            Err(error) => Err(self.refused(writer.owner, error).await),
        }
    }
}
