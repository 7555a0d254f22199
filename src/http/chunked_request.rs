//! `ChunkedRequest`: a request whose body is chunked, between its head and
//! the end of its body. It is answered only then: a chunked body's size and
//! validity are known at its end, and a request with a broken or oversized
//! body is answered `400`/`413` (and counted so), not `200` and a cut-off
//! connection.

use std::time::Instant;

use super::chunked::{ChunkedBody, Discarded};
use super::held_head::HeldHead;
use super::request::{parse, Limits, Parsed, Request};
use super::status::Status;

#[derive(Debug)]
pub(super) struct ChunkedRequest {
    head: HeldHead,
    body: ChunkedBody,
}

impl ChunkedRequest {
    /// Starts reading the body that follows `head` (a complete, chunked request head).
    pub(super) fn new(head: &[u8], limits: &Limits) -> ChunkedRequest {
        ChunkedRequest {
            head: HeldHead::copy_of(head),
            body: ChunkedBody::new(limits.max_body),
        }
    }

    /// Reads and drops as much of the body as `input` holds.
    pub(super) fn discard(&mut self, input: &[u8]) -> Result<Discarded, Status> {
        self.body.discard(input)
    }

    /// The request again, parsed from the held head, `received` at the
    /// body's end. Its `100 Continue` was already sent with the head.
    pub(super) fn request(&self, limits: &Limits, received: Instant) -> Request<'_> {
        // The same bytes parsed the same way a moment ago: parsing is a pure
        // function of them, and the fuzz targets check it never fails here.
        let Ok(Parsed::Complete(mut req, _)) = parse(self.head.bytes(), limits, received) else {
            unreachable!("a held head parses as it did: {:?}", self.head)
        };
        req.expect_continue = false;
        req
    }
}
