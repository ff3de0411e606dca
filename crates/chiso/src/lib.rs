//! The `chiso` command's pieces as a library, so the integration tests can
//! load the same demo data into a test stack that `chiso up` loads.

pub mod client;
pub mod demo;
pub mod probe;
pub mod up;
