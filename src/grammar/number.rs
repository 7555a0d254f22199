//! Numbers in flags: parsed with the blanks an environment variable may
//! carry, then checked against the flag's bounds, with the message clap
//! prints after the flag's name and the bad value.

use std::ops::RangeBounds;
use std::str::FromStr;

/// Checks a flag's value: `value` (`None`: it did not parse) when it lies
/// in `range`, else `expected`. Ranges over floats leave out NaN, and leave
/// out the infinities when bounded.
pub(crate) fn in_range<T: PartialOrd>(
    value: Option<T>,
    range: impl RangeBounds<T>,
    expected: &str,
) -> Result<T, String> {
    value.filter(|v| range.contains(v)).ok_or_else(|| expected.to_owned())
}

/// A number, with the blanks an environment variable may carry around it.
pub(crate) fn number<T: FromStr>(s: &str) -> Option<T> {
    s.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_range_takes_what_parsed_and_fits() {
        assert_eq!(in_range(number("  7 "), 1..=10, "e"), Ok(7));
        assert_eq!(in_range(number::<u8>("11"), 1..=10, "e"), Err("e".to_owned()));
        assert_eq!(in_range(number::<u8>("x"), 1..=10, "e"), Err("e".to_owned()));
        for bad in ["NaN", "inf", "-inf"] {
            assert!(in_range(number::<f64>(bad), f64::MIN..=f64::MAX, "e").is_err(), "{bad}");
        }
    }
}
