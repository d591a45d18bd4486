//! The test modules and their shared setup.

mod awkward;
mod common;
mod event;
mod receiver;
mod reconcile;
mod webhook;
