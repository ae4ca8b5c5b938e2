//! Email: rendering from templates, the delivery worker, and the transports it delivers with.

pub mod loading;
pub mod render;
pub mod smtp;
pub mod state;
pub mod transport;
pub mod worker;

pub use state::MailState;
