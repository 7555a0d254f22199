//! The `Transfer-Encoding` of a request, read for one decision: is the body
//! chunked, or must the request be refused (RFC 9112 §6.1, §6.3, §7.1)?
//!
//! The only coding this server decodes is a single, final `chunked`:
//! - `chunked` not last (or no coding at all): the body's length cannot be
//!   known, `400`;
//! - `chunked` more than once: a sender must never do that, `400`;
//! - another coding before the final `chunked` (`gzip, chunked`): not
//!   understood, `501`.
//!
//! Several field lines form one list, in order (RFC 9110 §5.3), so
//! `Transfer-Encoding: chunked` followed by `Transfer-Encoding: x` ends in `x`.

use super::status::Status;

/// The codings of all `Transfer-Encoding` lines of one request, as far as
/// the decision needs them.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct TransferCodings {
    present: bool,
    codings: u32,
    chunked: u32,
    last_is_chunked: bool,
}

impl TransferCodings {
    /// Adds one `Transfer-Encoding` field line's list.
    pub(super) fn add(&mut self, value: &[u8]) {
        self.present = true;
        // Empty list elements are allowed and ignored (RFC 9110 §5.6.1).
        for coding in value.split(|&b| b == b',') {
            let coding = coding.trim_ascii();
            if coding.is_empty() {
                continue;
            }
            // `chunked` takes no parameters: `chunked;x=1` is another coding.
            let is_chunked = coding.eq_ignore_ascii_case(b"chunked");
            self.codings = self.codings.saturating_add(1);
            self.chunked += u32::from(is_chunked);
            self.last_is_chunked = is_chunked;
        }
    }

    pub(super) fn is_present(&self) -> bool {
        self.present
    }

    /// `Ok(true)` for a chunked body, `Ok(false)` when there was no
    /// `Transfer-Encoding`, or the status that refuses the request.
    pub(super) fn chunked(&self) -> Result<bool, Status> {
        if !self.present {
            return Ok(false);
        }
        if !self.last_is_chunked || self.chunked > 1 {
            return Err(Status::BadRequest);
        }
        if self.codings > 1 {
            return Err(Status::NotImplemented);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(lines: &[&str]) -> Result<bool, Status> {
        let mut t = TransferCodings::default();
        for l in lines {
            t.add(l.as_bytes());
        }
        t.chunked()
    }

    #[test]
    fn decisions() {
        assert_eq!(decide(&[]), Ok(false));
        for ok in [
            &["chunked"][..],
            &["CHUNKED"],
            &[" chunked\t"],
            &[", chunked,"],
            &["", "chunked"],
        ] {
            assert_eq!(decide(ok), Ok(true), "{ok:?}");
        }
        for bad in [
            &[""][..],
            &["gzip"],
            &["chunked, gzip"],
            &["chunked", "gzip"],
            &["chunked, chunked"],
            &["chunked", "chunked"],
            &["xchunked"],
            &["chunked;x=1"],
            &["\"chunked\""],
            &["chunk"],
        ] {
            assert_eq!(decide(bad), Err(Status::BadRequest), "{bad:?}");
        }
        for unknown in [&["gzip, chunked"][..], &["gzip", "chunked"], &["identity, chunked"]] {
            assert_eq!(decide(unknown), Err(Status::NotImplemented), "{unknown:?}");
        }
    }
}
