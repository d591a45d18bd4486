//! The test modules and their shared setup.

mod common;
mod event;
mod reconcile;
mod webhook;
