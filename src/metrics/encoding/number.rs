//! Numbers as Prometheus parses them.
//!
//! Rust's `{}` prints `inf` and never uses an exponent (`1e300` becomes 301
//! digits), so floats go through `ryu` (shortest round-trip form) with the
//! special values spelled `+Inf`, `-Inf` and `NaN`, and integral values
//! printed without a fraction, the way client_golang prints them.

/// Appends `v` in its shortest round-trip form.
pub(crate) fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
    } else if v == v.trunc() && v.abs() < 1e16 {
        // Exact: an integral f64 below 2^63 converts to i64 without loss.
        write_i64(out, v as i64);
    } else {
        let mut buf = ryu::Buffer::new();
        out.extend_from_slice(buf.format_finite(v).as_bytes());
    }
}

pub(crate) fn write_u64(out: &mut Vec<u8>, v: u64) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(v).as_bytes());
}

fn write_i64(out: &mut Vec<u8>, v: i64) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(v).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64) -> String {
        let mut out = Vec::new();
        write_f64(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn special_values() {
        assert_eq!(f(f64::NAN), "NaN");
        assert_eq!(f(f64::INFINITY), "+Inf");
        assert_eq!(f(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn integers_without_fraction() {
        assert_eq!(f(50.0), "50");
        assert_eq!(f(-10.0), "-10");
        assert_eq!(f(0.0), "0");
        assert_eq!(f(-0.0), "0");
        assert_eq!(f(999_999_999_999_999.0), "999999999999999");
    }

    #[test]
    fn shortest_round_trip_and_exponents() {
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(-273.15), "-273.15");
        assert_eq!(f(1e21), "1e21");
        assert_eq!(f(1e15), "1000000000000000");
        assert_eq!(f(1e16), "1e16");
        assert_eq!(f(1.5e-7), "1.5e-7");
        assert_eq!(f(f64::MAX), "1.7976931348623157e308");
        assert_eq!(f(5e-324), "5e-324");
        for v in [0.1, 1.0 / 3.0, 123456.789, 6.02214076e23, -1e-300, 2f64.powi(60)] {
            assert_eq!(f(v).parse::<f64>().unwrap(), v, "round trip of {v}");
        }
    }

    #[test]
    fn integers() {
        let mut out = Vec::new();
        write_u64(&mut out, u64::MAX);
        assert_eq!(out, b"18446744073709551615");
    }
}
