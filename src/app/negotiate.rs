//! Which exposition format a scrape gets, from its `Accept` header.

use crate::metrics::encoding::Format;

/// OpenMetrics when the client ranks `application/openmetrics-text` at least
/// as high as the text format (Prometheus 2.x and 3.x do); the 0.0.4 text
/// format for any other `Accept`, or none.
pub(crate) fn exposition_format(accept: Option<&[u8]>, openmetrics_enabled: bool) -> Format {
    let Some(accept) = accept.filter(|_| openmetrics_enabled) else {
        return Format::Text;
    };
    let (mut openmetrics, mut text) = (0.0f32, 0.0f32);
    for range in accept.split(|&b| b == b',') {
        let mut parts = range.split(|&b| b == b';');
        let media = parts.next().unwrap_or_default().trim_ascii();
        let q = parts
            .filter_map(|p| {
                p.trim_ascii()
                    .strip_prefix(b"q=")
                    .or_else(|| p.trim_ascii().strip_prefix(b"Q="))
            })
            .find_map(|v| std::str::from_utf8(v).ok()?.trim().parse::<f32>().ok())
            .unwrap_or(1.0)
            .clamp(0.0, 1.0);
        if media.eq_ignore_ascii_case(b"application/openmetrics-text") {
            openmetrics = openmetrics.max(q);
        } else if media.eq_ignore_ascii_case(b"text/plain") || media.eq_ignore_ascii_case(b"text/*") || media == b"*/*"
        {
            text = text.max(q);
        }
    }
    if openmetrics > 0.0 && openmetrics >= text {
        Format::OpenMetrics
    } else {
        Format::Text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(accept: &str) -> Format {
        exposition_format(Some(accept.as_bytes()), true)
    }

    #[test]
    fn prometheus_scrapers_get_openmetrics() {
        // Prometheus 2.42's scrape Accept header.
        assert_eq!(
            f(
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,\
               text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
            ),
            Format::OpenMetrics
        );
        // Prometheus 3.x's.
        assert_eq!(
            f("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,\
               application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,\
               text/plain;version=0.0.4;q=0.2,*/*;q=0.1"),
            Format::OpenMetrics
        );
        assert_eq!(f("Application/OpenMetrics-Text"), Format::OpenMetrics);
    }

    #[test]
    fn everything_else_gets_text() {
        assert_eq!(exposition_format(None, true), Format::Text);
        assert_eq!(f("*/*"), Format::Text);
        assert_eq!(f("text/plain"), Format::Text);
        assert_eq!(f("text/plain;q=0.9, application/openmetrics-text;q=0.5"), Format::Text);
        assert_eq!(f("application/openmetrics-text;q=0"), Format::Text);
        assert_eq!(f("application/json"), Format::Text);
        assert_eq!(f(";;;,,,q=x"), Format::Text);
        let prometheus = b"application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
        assert_eq!(exposition_format(Some(prometheus), false), Format::Text);
    }
}
