//! `ChunkedBody`: reads a request body in the chunked transfer coding
//! (RFC 9112 §7.1) and throws it away, byte by byte as it arrives, so no
//! part of it is ever buffered.
//!
//! Strict on purpose: a body whose framing another parser could read
//! differently is where request smuggling lives, so every line must end in
//! CRLF (a bare CR or LF anywhere is refused), a chunk's data must be
//! followed by exactly CRLF, and no control character may hide in a chunk
//! extension or a trailer field. Extensions are checked only that far and
//! otherwise ignored; trailer fields are checked like header fields and
//! dropped.

use super::request::{MAX_HEAD, MAX_HEADERS};
use super::status::Status;

/// A chunk size of more than 16 hex digits (leading zeros included) does not
/// fit in 64 bits, or pads the line for no reason: refused with `400`.
const MAX_SIZE_DIGITS: u8 = 16;

/// Where the decoder is in the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Hex digits of a chunk size; `size` and `digits` hold what was read.
    Size,
    /// Whitespace after the size: only more of it, `;` or CR may follow.
    SizeSpace,
    /// Inside the chunk extensions, up to the CR.
    Extension,
    /// The CR ending a chunk-size line was read; LF must follow.
    SizeLf,
    /// `size` bytes of chunk data still to skip.
    Data,
    /// The chunk data ended: CR must follow.
    DataCr,
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    TrailerName,
    TrailerValue,
    /// The CR ending a trailer field was read.
    TrailerLf,
    /// The CR of the final empty line was read.
    EndLf,
    Done,
}

/// The state of one chunked body being read and discarded.
#[derive(Clone, Copy, Debug)]
pub(super) struct ChunkedBody {
    state: State,
    /// The size being read (in `Size`), or the data left (in `Data`).
    size: u64,
    digits: u8,
    /// The sum of the chunk sizes so far: what `--max-body-bytes` limits.
    total: u64,
    max_total: u64,
    /// Bytes of chunk extensions (and the whitespace before them) so far:
    /// bounded like a head, so a client cannot stream an endless line.
    extension_bytes: usize,
    trailer_bytes: usize,
    trailer_fields: usize,
}

/// How far one call to [`ChunkedBody::discard`] got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Discarded {
    /// Input bytes that belonged to the body.
    pub consumed: usize,
    /// The body ended (after its trailer section); what follows is the next request.
    pub done: bool,
}

impl ChunkedBody {
    /// A body whose chunks may add up to `max_total` bytes at most.
    pub(super) fn new(max_total: u64) -> ChunkedBody {
        ChunkedBody {
            state: State::Size,
            size: 0,
            digits: 0,
            total: 0,
            max_total,
            extension_bytes: 0,
            trailer_bytes: 0,
            trailer_fields: 0,
        }
    }

    /// Reads as much of the body as `input` holds. An error is the status
    /// that refuses the request: `400` for broken framing, `413` when the
    /// chunks add up to more than the limit, `431` for a trailer section
    /// beyond the head limits.
    pub(super) fn discard(&mut self, input: &[u8]) -> Result<Discarded, Status> {
        let mut i = 0;
        while i < input.len() && self.state != State::Done {
            if self.state == State::Data {
                // The only bulk step: skip what the chunk still owns.
                let skip = self.size.min((input.len() - i) as u64);
                self.size -= skip;
                i += skip as usize;
                if self.size == 0 {
                    self.state = State::DataCr;
                }
                continue;
            }
            self.step(input[i])?;
            i += 1;
        }
        Ok(Discarded {
            consumed: i,
            done: self.state == State::Done,
        })
    }

    /// One byte of framing (everything but chunk data).
    fn step(&mut self, b: u8) -> Result<(), Status> {
        const BAD: Status = Status::BadRequest;
        if matches!(
            self.state,
            State::TrailerStart | State::TrailerName | State::TrailerValue | State::TrailerLf | State::EndLf
        ) {
            self.trailer_bytes += 1;
            if self.trailer_bytes > MAX_HEAD {
                return Err(Status::HeaderFieldsTooLarge);
            }
        }
        self.state = match (self.state, b) {
            (State::Size, _) if b.is_ascii_hexdigit() => {
                if self.digits == MAX_SIZE_DIGITS {
                    return Err(BAD);
                }
                self.digits += 1;
                self.size = self.size << 4 | u64::from(hex_value(b));
                State::Size
            }
            // At least one digit before anything else.
            (State::Size, _) if self.digits == 0 => return Err(BAD),
            (State::Size | State::SizeSpace, b' ' | b'\t') => {
                self.extension_byte()?;
                State::SizeSpace
            }
            (State::Size | State::SizeSpace, b';') => self.extension_byte()?,
            (State::Size | State::SizeSpace | State::Extension, b'\r') => State::SizeLf,
            (State::Extension, _) if is_field_byte(b) => self.extension_byte()?,
            (State::SizeLf, b'\n') => self.chunk_started()?,
            (State::DataCr, b'\r') => State::DataLf,
            (State::DataLf, b'\n') => {
                self.size = 0;
                self.digits = 0;
                State::Size
            }
            (State::TrailerStart, b'\r') => State::EndLf,
            (State::TrailerStart, _) if is_token_byte(b) => {
                self.trailer_fields += 1;
                if self.trailer_fields > MAX_HEADERS {
                    return Err(Status::HeaderFieldsTooLarge);
                }
                State::TrailerName
            }
            (State::TrailerName, _) if is_token_byte(b) => State::TrailerName,
            (State::TrailerName, b':') => State::TrailerValue,
            (State::TrailerValue, b'\r') => State::TrailerLf,
            (State::TrailerValue, _) if is_field_byte(b) => State::TrailerValue,
            (State::TrailerLf, b'\n') => State::TrailerStart,
            (State::EndLf, b'\n') => State::Done,
            // Anything else: a bare CR or LF, a control byte, a space before
            // a colon or at a trailer line's start (obs-fold), junk after a size.
            _ => return Err(BAD),
        };
        Ok(())
    }

    fn extension_byte(&mut self) -> Result<State, Status> {
        self.extension_bytes += 1;
        if self.extension_bytes > MAX_HEAD {
            return Err(Status::BadRequest);
        }
        Ok(State::Extension)
    }

    /// A chunk-size line ended: the data follows, or the trailer section
    /// after the last (zero-size) chunk.
    fn chunk_started(&mut self) -> Result<State, Status> {
        if self.size == 0 {
            return Ok(State::TrailerStart);
        }
        // Refused before any of the chunk is read: no need to see it to know.
        self.total = match self.total.checked_add(self.size) {
            Some(t) if t <= self.max_total => t,
            _ => return Err(Status::PayloadTooLarge),
        };
        Ok(State::Data)
    }
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

/// tchar (RFC 9110 §5.6.2).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// What a field value or an extension may hold: visible ASCII, space, tab
/// and obs-text; never a control byte (CR and LF included) or DEL.
fn is_field_byte(b: u8) -> bool {
    b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `body` in one piece; Ok(bytes consumed) when it ended.
    fn whole(body: &[u8], max: u64) -> Result<usize, Status> {
        let mut c = ChunkedBody::new(max);
        let d = c.discard(body)?;
        assert!(d.done, "{:?} did not end", String::from_utf8_lossy(body));
        Ok(d.consumed)
    }

    fn bad(body: &[u8]) -> Status {
        let mut c = ChunkedBody::new(1024);
        match c.discard(body) {
            Err(s) => s,
            Ok(d) => panic!("{:?} was accepted: {d:?}", String::from_utf8_lossy(body)),
        }
    }

    #[test]
    fn reads_chunks_extensions_and_trailers() {
        let body = b"5\r\nhello\r\nA;name=value;q=\"a;b\"\r\n0123456789\r\n0\r\n\r\nGET";
        assert_eq!(whole(body, 15), Ok(body.len() - 3));
        let trailers = b"1 ;x\r\na\r\n000\r\nChecksum: abc\r\nX-Empty:\r\n\r\n";
        assert_eq!(whole(trailers, 1), Ok(trailers.len()));
        assert_eq!(whole(b"0\r\n\r\n", 0), Ok(5));
        let zeros = format!("{}\r\n\r\n", "0".repeat(16));
        assert_eq!(whole(zeros.as_bytes(), 0), Ok(20), "16 digits");
    }

    #[test]
    fn any_split_reads_the_same() {
        let body = b"3;e=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n";
        for cut in 0..=body.len() {
            let mut c = ChunkedBody::new(100);
            let a = c.discard(&body[..cut]).unwrap();
            assert_eq!(a.consumed, cut);
            let b = c.discard(&body[cut..]).unwrap();
            assert!(b.done && a.consumed + b.consumed == body.len(), "cut at {cut}");
        }
    }

    #[test]
    fn refuses_broken_framing() {
        for body in [
            &b"x\r\n"[..],
            b"\r\n",
            b";ext\r\n",
            b"5x\r\nhello\r\n",
            b"5 x\r\n",
            b"-5\r\n",
            b"0x5\r\n",
            b"5\nhello\r\n",
            b"5\r\rhello",
            b"5\r\nhelloXX",
            b"5\r\nhello\n",
            b"5;a\nb\r\n",
            b"5;a\0\r\n",
            b"5;a\rb\r\n",
            b"0\r\n\n",
            b"0\r\n X: folded\r\n\r\n",
            b"0\r\nX : v\r\n\r\n",
            b"0\r\n: v\r\n\r\n",
            b"0\r\nX: v\n\r\n",
            b"0\r\nX: a\x7f\r\n\r\n",
            b"0\r\n\r\r",
            b"11111111111111111\r\n",
            b"00000000000000000\r\n",
        ] {
            assert_eq!(bad(body), Status::BadRequest, "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn limits() {
        let mut c = ChunkedBody::new(1024);
        let d = c.discard(b"400\r\n").unwrap();
        assert!(!d.done, "exactly the limit: its data is owed");
        assert_eq!(bad(b"401\r\n"), Status::PayloadTooLarge);
        let mut c = ChunkedBody::new(1024);
        c.discard(b"200\r\n").unwrap();
        c.discard(&[b'a'; 0x200]).unwrap();
        assert_eq!(
            c.discard(b"\r\n201\r\n"),
            Err(Status::PayloadTooLarge),
            "the sum counts"
        );
        assert_eq!(bad(b"ffffffffffffffff\r\n"), Status::PayloadTooLarge);
        let mut c = ChunkedBody::new(u64::MAX);
        c.total = u64::MAX;
        assert_eq!(c.discard(b"1\r\n"), Err(Status::PayloadTooLarge), "no overflow");
        let long_ext = format!("1;{}\r\n", "e".repeat(MAX_HEAD));
        assert_eq!(bad(long_ext.as_bytes()), Status::BadRequest);
        let long_space = format!("1{}\r\n", " ".repeat(MAX_HEAD + 1));
        assert_eq!(bad(long_space.as_bytes()), Status::BadRequest);
        let big_trailer = format!("0\r\nX: {}\r\n\r\n", "v".repeat(MAX_HEAD));
        assert_eq!(bad(big_trailer.as_bytes()), Status::HeaderFieldsTooLarge);
        let many: String = (0..=MAX_HEADERS).map(|i| format!("T{i}: v\r\n")).collect();
        assert_eq!(bad(format!("0\r\n{many}\r\n").as_bytes()), Status::HeaderFieldsTooLarge);
    }
}
