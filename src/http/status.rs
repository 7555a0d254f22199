//! The closed set of status codes this server can answer with.
//!
//! Closed on purpose: `total_req_num{status}` has one series per variant, so
//! no request can ever create a new series.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Ok,
    BadRequest,
    MethodNotAllowed,
    RequestTimeout,
    Conflict,
    PayloadTooLarge,
    UriTooLong,
    ExpectationFailed,
    HeaderFieldsTooLarge,
    InternalServerError,
    NotImplemented,
    ServiceUnavailable,
    VersionNotSupported,
    // Only `/status/{code}` answers these (error injection).
    Created,
    NoContent,
    Unauthorized,
    Forbidden,
    NotFound,
    TooManyRequests,
    BadGateway,
    GatewayTimeout,
}

impl Status {
    pub const ALL: [Status; 21] = [
        Status::Ok,
        Status::BadRequest,
        Status::MethodNotAllowed,
        Status::RequestTimeout,
        Status::Conflict,
        Status::PayloadTooLarge,
        Status::UriTooLong,
        Status::ExpectationFailed,
        Status::HeaderFieldsTooLarge,
        Status::InternalServerError,
        Status::NotImplemented,
        Status::ServiceUnavailable,
        Status::VersionNotSupported,
        Status::Created,
        Status::NoContent,
        Status::Unauthorized,
        Status::Forbidden,
        Status::NotFound,
        Status::TooManyRequests,
        Status::BadGateway,
        Status::GatewayTimeout,
    ];

    /// Position in [`Status::ALL`]: the index metrics use.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::BadRequest => 400,
            Status::MethodNotAllowed => 405,
            Status::RequestTimeout => 408,
            Status::Conflict => 409,
            Status::PayloadTooLarge => 413,
            Status::UriTooLong => 414,
            Status::ExpectationFailed => 417,
            Status::HeaderFieldsTooLarge => 431,
            Status::InternalServerError => 500,
            Status::NotImplemented => 501,
            Status::ServiceUnavailable => 503,
            Status::VersionNotSupported => 505,
            Status::Created => 201,
            Status::NoContent => 204,
            Status::Unauthorized => 401,
            Status::Forbidden => 403,
            Status::NotFound => 404,
            Status::TooManyRequests => 429,
            Status::BadGateway => 502,
            Status::GatewayTimeout => 504,
        }
    }

    /// The code as a label value (`"200"`), the way the seed app labels it.
    pub fn as_str(self) -> &'static str {
        &self.status_line()[9..12]
    }

    pub fn reason(self) -> &'static str {
        let line = self.status_line();
        &line[13..line.len() - 2]
    }

    /// The status with this code, if it is one of the set.
    pub fn from_code(code: u16) -> Option<Status> {
        Status::ALL.iter().copied().find(|s| s.code() == code)
    }

    /// The whole status line, CRLF included.
    pub fn status_line(self) -> &'static str {
        match self {
            Status::Ok => "HTTP/1.1 200 OK\r\n",
            Status::BadRequest => "HTTP/1.1 400 Bad Request\r\n",
            Status::MethodNotAllowed => "HTTP/1.1 405 Method Not Allowed\r\n",
            Status::RequestTimeout => "HTTP/1.1 408 Request Timeout\r\n",
            Status::Conflict => "HTTP/1.1 409 Conflict\r\n",
            Status::PayloadTooLarge => "HTTP/1.1 413 Content Too Large\r\n",
            Status::UriTooLong => "HTTP/1.1 414 URI Too Long\r\n",
            Status::ExpectationFailed => "HTTP/1.1 417 Expectation Failed\r\n",
            Status::HeaderFieldsTooLarge => "HTTP/1.1 431 Request Header Fields Too Large\r\n",
            Status::InternalServerError => "HTTP/1.1 500 Internal Server Error\r\n",
            Status::NotImplemented => "HTTP/1.1 501 Not Implemented\r\n",
            Status::ServiceUnavailable => "HTTP/1.1 503 Service Unavailable\r\n",
            Status::VersionNotSupported => "HTTP/1.1 505 HTTP Version Not Supported\r\n",
            Status::Created => "HTTP/1.1 201 Created\r\n",
            Status::NoContent => "HTTP/1.1 204 No Content\r\n",
            Status::Unauthorized => "HTTP/1.1 401 Unauthorized\r\n",
            Status::Forbidden => "HTTP/1.1 403 Forbidden\r\n",
            Status::NotFound => "HTTP/1.1 404 Not Found\r\n",
            Status::TooManyRequests => "HTTP/1.1 429 Too Many Requests\r\n",
            Status::BadGateway => "HTTP/1.1 502 Bad Gateway\r\n",
            Status::GatewayTimeout => "HTTP/1.1 504 Gateway Timeout\r\n",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_codes_and_indexes_agree() {
        for (i, s) in Status::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
            assert_eq!(s.as_str(), s.code().to_string());
            assert_eq!(s.status_line(), format!("HTTP/1.1 {} {}\r\n", s.code(), s.reason()));
        }
        assert_eq!(Status::HeaderFieldsTooLarge.reason(), "Request Header Fields Too Large");
    }
}
