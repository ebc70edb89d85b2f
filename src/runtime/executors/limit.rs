//! At most a target's `concurrency` tasks in flight at once: a burst of conversations
//! would otherwise open a connection each (600 at once ran out of file descriptors). The
//! others wait their turn, and the wait counts against the action's timeout.

use crate::ir::Value;
use crate::runtime::effects::{Executor, TaskError, TaskRequest};
use futures::future::BoxFuture;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The limit of a target that does not set `concurrency`.
pub const DEFAULT_CONCURRENCY: usize = 32;
/// The largest `concurrency` a target may set.
pub const MAX_CONCURRENCY: usize = 1024;

/// An executor whose tasks take a permit first.
pub struct Limited {
    inner: Arc<dyn Executor>,
    permits: Semaphore,
}

impl Limited {
    pub fn new(inner: Arc<dyn Executor>, limit: usize) -> Self {
        Limited {
            inner,
            permits: Semaphore::new(limit),
        }
    }
}

impl Executor for Limited {
    fn execute<'a>(&'a self, request: &'a TaskRequest) -> BoxFuture<'a, Result<Value, TaskError>> {
        Box::pin(async move {
            // Never closed: an error cannot happen, but is reported rather than unwrapped.
            let _permit = self
                .permits
                .acquire()
                .await
                .map_err(|_| TaskError::fatal("the target is shutting down"))?;
            self.inner.execute(request).await
        })
    }

    fn describe(&self, request: &TaskRequest) -> String {
        self.inner.describe(request)
    }

    fn preview(&self, request: &TaskRequest) -> String {
        self.inner.preview(request)
    }

    fn unavailable(&self) -> Option<&str> {
        self.inner.unavailable()
    }
}
