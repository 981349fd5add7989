//! Changes a page makes through the API (add, edit, remove…), as Leptos actions that share the
//! page's status line and have its data re-read.

use std::future::Future;
use std::rc::Rc;

use leptos::prelude::*;

use crate::api::ApiFailure;
use crate::components::feedback::{failed, Outcome};
use crate::session::use_session;

/// What the changes of one page (or panel) share: the outcome shown in its `StatusLine`, and a
/// version its resources track so they re-read after each change.
#[derive(Clone, Copy)]
pub struct Changes {
    /// The outcome of the latest change.
    pub message: RwSignal<Outcome>,
    /// Bumped after every change, whether it went through or not: a refused change then shows
    /// what is really stored (e.g. a role picker goes back to the role kept).
    pub version: RwSignal<u32>,
}

impl Changes {
    pub fn new() -> Self {
        Self {
            message: RwSignal::new(None),
            version: RwSignal::new(0),
        }
    }

    /// An action for one kind of change: `call` runs with the session's token and the
    /// dispatched input; `done` turns its answer into the outcome to show (and does whatever
    /// else success calls for). A failure is shown as it is.
    pub fn action<I, T, Fut>(
        self,
        call: impl Fn(String, I) -> Fut + 'static,
        done: impl Fn(T) -> Outcome + 'static,
    ) -> Action<I, ()>
    where
        I: Clone + 'static,
        T: 'static,
        Fut: Future<Output = Result<T, ApiFailure>> + 'static,
    {
        let session = use_session();
        let done = Rc::new(done);
        Action::new_local(move |input: &I| {
            let call = session.token().map(|token| call(token, input.clone()));
            let done = Rc::clone(&done);
            async move {
                let result = match call {
                    Ok(call) => call.await,
                    Err(signed_out) => Err(signed_out),
                };
                self.message.set(match result {
                    Ok(answer) => done(answer),
                    Err(failure) => failed(&failure),
                });
                self.version.update(|v| *v += 1);
            }
        })
    }
}
