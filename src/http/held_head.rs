//! `HeldHead`: a copy of a request head, kept while the request's chunked
//! body is read so the request can be answered when the body ends.
//!
//! The read buffer a head arrives in is reused before the body has ended, so
//! the head is copied. The copies live in fixed [`MAX_HEAD`]-byte buffers
//! that go back to a per-thread spare list when done: once a worker has seen
//! as many chunked uploads at a time as it will see, no request allocates.

use std::cell::RefCell;
use std::fmt;

use super::request::MAX_HEAD;

/// Spare buffers a thread keeps (8 KiB each); more are freed when returned.
const SPARES_KEPT: usize = 64;

thread_local! {
    static SPARES: RefCell<Vec<Box<[u8]>>> = const { RefCell::new(Vec::new()) };
}

/// A request head copied out of the read buffer.
pub(super) struct HeldHead {
    buf: Box<[u8]>,
    len: usize,
}

impl HeldHead {
    /// Copies `head`, which the session has already limited to [`MAX_HEAD`] bytes.
    pub(super) fn copy_of(head: &[u8]) -> HeldHead {
        assert!(head.len() <= MAX_HEAD, "heads longer than MAX_HEAD are refused before");
        let mut buf = SPARES
            .with(|s| s.borrow_mut().pop())
            .unwrap_or_else(|| vec![0; MAX_HEAD].into_boxed_slice());
        buf[..head.len()].copy_from_slice(head);
        HeldHead { buf, len: head.len() }
    }

    pub(super) fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for HeldHead {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        // While the thread is exiting, its spare list may be gone already.
        let _ = SPARES.try_with(|s| {
            let mut spares = s.borrow_mut();
            if spares.len() < SPARES_KEPT {
                spares.push(buf);
            }
        });
    }
}

impl fmt::Debug for HeldHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HeldHead({:?})", String::from_utf8_lossy(self.bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_and_reuses_buffers() {
        let a = HeldHead::copy_of(b"POST / HTTP/1.1\r\n\r\n");
        assert_eq!(a.bytes(), b"POST / HTTP/1.1\r\n\r\n");
        let first = a.buf.as_ptr();
        drop(a);
        let b = HeldHead::copy_of(b"GET");
        assert_eq!((b.bytes(), b.buf.as_ptr()), (&b"GET"[..], first), "the spare is reused");
        HeldHead::copy_of(&[b'x'; MAX_HEAD]);
    }
}
