//! The HTTP/1.1 codec: request parsing (on httparse), response writing, the
//! cached `Date` header, and the per-connection [`Session`] that turns bytes
//! read into responses. Pure functions over byte buffers; sockets live in
//! [`crate::server`].

mod chunked;
mod chunked_request;
mod date;
mod deferred;
mod handler;
mod held_head;
mod host;
mod request;
mod response;
mod session;
mod status;
mod transfer_coding;

pub(crate) use date::civil_from_days;
pub(crate) use deferred::Deferred;
pub use deferred::Wait;
pub use handler::Handler;
pub use host::is_valid_host;
pub use request::{parse, Limits, Method, Parsed, Rejection, Request};
pub use response::ResponseWriter;
pub(crate) use session::Progress;
pub use session::{Session, WRITE_HIGH_WATER};
pub use status::Status;
