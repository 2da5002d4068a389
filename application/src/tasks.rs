//! The task operations. Every one acts for an owner the HTTP layer has already checked
//! against the caller (see [`tessera_domain::Principal::acting_as`]).

use std::sync::Arc;

use tessera_domain::{
    ClientAddress, Task, TaskChanges, TaskDescription, TaskId, TaskStatusFilter, TaskTitle, UserId,
};
use thiserror::Error;

use crate::error::{Fault, ValidationErrors};
use crate::ports::{Clock, NewTask, RepoError, TaskRepository, UserRepository};
use crate::throttle::Refusal;
use crate::writes::WriteBudget;

/// The listing's query as received: every value is raw text, or absent.
#[derive(Debug, Clone, Default)]
pub struct ListTasksQuery {
    /// `all`, `pending` or `completed`; default `all`.
    pub status: Option<String>,
    /// 1 to 500; default 100.
    pub limit: Option<String>,
    /// 0 or more; default 0.
    pub offset: Option<String>,
}

/// A page of tasks and the count of all that match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskList {
    /// The tasks, newest first.
    pub tasks: Vec<Task>,
    /// How many tasks match the status filter.
    pub total: u64,
}

/// A new task as received.
#[derive(Debug, Clone, Default)]
pub struct CreateTaskCommand {
    /// The title.
    pub title: Option<String>,
    /// The description.
    pub description: Option<String>,
}

/// A full replacement (PUT) as received.
#[derive(Debug, Clone, Default)]
pub struct ReplaceTaskCommand {
    /// The new title.
    pub title: Option<String>,
    /// The new description; absent clears it.
    pub description: Option<String>,
    /// The new completion state; absent keeps it.
    pub completed: Option<bool>,
}

/// A partial update (PATCH) as received. `None` leaves a field alone; `Some(None)` is
/// an explicit JSON `null`.
#[derive(Debug, Clone, Default)]
pub struct PatchTaskCommand {
    /// A new title (`null` is refused as a missing title).
    pub title: Option<Option<String>>,
    /// A new description (`null` clears it).
    pub description: Option<Option<String>>,
    /// A new completion state.
    pub completed: Option<bool>,
}

/// Why a task operation failed.
#[derive(Debug, Error)]
pub enum TaskError {
    /// The request is invalid.
    #[error("invalid task request: {0}")]
    Validation(ValidationErrors),
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

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest page size.
pub const MAX_LIMIT: u32 = 500;

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
    /// Builds the service on its ports; an owner may hold at most `max_tasks` tasks.
    /// `owners` tells a task that is gone from an account that is gone.
    #[must_use]
    pub fn new(
        tasks: Arc<dyn TaskRepository>,
        owners: Arc<dyn UserRepository>,
        clock: Arc<dyn Clock>,
        max_tasks: u32,
    ) -> Self {
        Self {
            tasks,
            owners,
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

    /// Lists `owner`'s tasks.
    ///
    /// # Errors
    /// [`TaskError::Validation`] for a bad query value, or a fault.
    pub async fn list(&self, owner: UserId, query: ListTasksQuery) -> Result<TaskList, TaskError> {
        let mut errors = ValidationErrors::default();
        let status = match query.status.as_deref() {
            None => Some(TaskStatusFilter::All),
            Some(raw) => errors.check(
                "status",
                TaskStatusFilter::parse(raw).ok_or("Status must be one of all, pending, completed"),
            ),
        };
        let limit = match query.limit.as_deref() {
            None => Some(DEFAULT_LIMIT),
            Some(raw) => errors.check(
                "limit",
                raw.parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or("Limit must be a whole number from 1 to 500"),
            ),
        };
        let offset = match query.offset.as_deref() {
            None => Some(0),
            Some(raw) => errors.check(
                "offset",
                raw.parse::<u64>()
                    .ok()
                    .filter(|n| *n <= u64::from(self.max_tasks))
                    .ok_or_else(|| {
                        format!("Offset must be a whole number from 0 to {}", self.max_tasks)
                    }),
            ),
        };
        let (Some(status), Some(limit), Some(offset)) = (status, limit, offset) else {
            return Err(TaskError::Validation(errors));
        };
        let page = self.tasks.list(owner, status, limit, offset).await?;
        Ok(TaskList {
            tasks: page.tasks,
            total: page.total,
        })
    }

    /// Creates a task for `owner`.
    ///
    /// # Errors
    /// [`TaskError::Validation`] for an invalid title or description, or a fault.
    pub async fn create(
        &self,
        writer: TaskWriter,
        command: CreateTaskCommand,
    ) -> Result<Task, TaskError> {
        let (title, description) =
            parse_title_and_description(command.title.as_deref(), command.description.as_deref())?;
        let task = NewTask { title, description };
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
    pub async fn get(&self, owner: UserId, id: Option<TaskId>) -> Result<Task, TaskError> {
        let id = id.ok_or(TaskError::NotFound)?;
        Ok(self.tasks.get(owner, id).await?)
    }

    /// Replaces a task's title and description, and its completion state if given.
    ///
    /// # Errors
    /// [`TaskError::Validation`], [`TaskError::NotFound`], or a fault.
    pub async fn replace(
        &self,
        writer: TaskWriter,
        id: Option<TaskId>,
        command: ReplaceTaskCommand,
    ) -> Result<Task, TaskError> {
        let (title, description) =
            parse_title_and_description(command.title.as_deref(), command.description.as_deref())?;
        let changes = TaskChanges {
            title: Some(title),
            description: Some(description),
            completed: command.completed,
        };
        self.update(writer, id, &changes).await
    }

    /// Changes the fields given.
    ///
    /// # Errors
    /// [`TaskError::Validation`], [`TaskError::NotFound`], or a fault.
    pub async fn patch(
        &self,
        writer: TaskWriter,
        id: Option<TaskId>,
        command: PatchTaskCommand,
    ) -> Result<Task, TaskError> {
        let mut errors = ValidationErrors::default();
        let title = command.title.map(|title| {
            errors.check(
                "title",
                TaskTitle::parse(title.as_deref().unwrap_or_default()),
            )
        });
        let description = command.description.map(|description| {
            errors.check(
                "description",
                TaskDescription::parse(description.as_deref().unwrap_or_default()),
            )
        });
        errors.into_result().map_err(TaskError::Validation)?;
        let changes = TaskChanges {
            title: title.flatten(),
            description: description.flatten(),
            completed: command.completed,
        };
        self.update(writer, id, &changes).await
    }

    /// Flips a task's completion state.
    ///
    /// # Errors
    /// [`TaskError::NotFound`], or a fault.
    pub async fn toggle(&self, writer: TaskWriter, id: Option<TaskId>) -> Result<Task, TaskError> {
        let id = id.ok_or(TaskError::NotFound)?;
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
    pub async fn delete(&self, writer: TaskWriter, id: Option<TaskId>) -> Result<(), TaskError> {
        let id = id.ok_or(TaskError::NotFound)?;
        self.admit(writer).await?;
        match self.tasks.delete(writer.owner, id).await {
            Ok(()) => Ok(()),
            Err(error) => Err(self.refused(writer.owner, error).await),
        }
    }

    async fn update(
        &self,
        writer: TaskWriter,
        id: Option<TaskId>,
        changes: &TaskChanges,
    ) -> Result<Task, TaskError> {
        let id = id.ok_or(TaskError::NotFound)?;
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
}

fn parse_title_and_description(
    title: Option<&str>,
    description: Option<&str>,
) -> Result<(TaskTitle, Option<TaskDescription>), TaskError> {
    let mut errors = ValidationErrors::default();
    let title = errors.check("title", TaskTitle::parse(title.unwrap_or_default()));
    let description = errors.check(
        "description",
        TaskDescription::parse(description.unwrap_or_default()),
    );
    match (title, description) {
        (Some(title), Some(description)) => Ok((title, description)),
        _ => Err(TaskError::Validation(errors)),
    }
}
