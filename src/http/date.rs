//! The `Date` header value, formatted at most once per second per thread.
//!
//! On Linux the clock is `CLOCK_REALTIME_COARSE`, which the vDSO answers
//! without a system call; other systems (macOS has no coarse clock) read the
//! ordinary realtime clock. Formatting happens only when the second changes.
//!
//! Seconds are `i64` everywhere, so the header stays right past January 2038
//! on 32-bit targets too, where the C library's `time_t` (and `timespec`'s
//! `tv_sec`) may be 32 bits: there the wall clock is read through the 64-bit
//! `clock_gettime64` system call, once a minute per thread, and carried
//! forward on the coarse monotonic clock in between.

use std::cell::Cell;

/// `Sun, 06 Nov 1994 08:49:37 GMT`
pub(super) type HttpDate = [u8; 29];

thread_local! {
    static CACHE: Cell<(i64, HttpDate)> = const { Cell::new((i64::MIN, [0; 29])) };
}

/// The current time as an IMF-fixdate, from this thread's cache.
pub(super) fn http_date() -> HttpDate {
    let now = coarse_unix_seconds();
    CACHE.with(|c| {
        let (secs, date) = c.get();
        if secs == now {
            return date;
        }
        let date = format_http_date(now);
        c.set((now, date));
        date
    })
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn coarse_unix_seconds() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant
    // Linux supports since 2.6.32.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) };
    if rc == 0 {
        ts.tv_sec
    } else {
        precise_unix_seconds()
    }
}

/// 32-bit Linux: a 32-bit `time_t` overflows on 2038-01-19T03:14:08Z, so the
/// C library's `clock_gettime(CLOCK_REALTIME…)` cannot be trusted with the
/// wall clock. The monotonic clock counts from boot and fits 32 bits for 68
/// years of uptime, and its coarse variant is a vDSO read: each request reads
/// it and adds an offset to the wall clock, which this thread takes from the
/// kernel's 64-bit clock once a minute (so clock steps are followed).
#[cfg(all(target_os = "linux", target_pointer_width = "32"))]
fn coarse_unix_seconds() -> i64 {
    const NANOS: i64 = 1_000_000_000;
    const REFRESH: i64 = 60 * NANOS;
    thread_local! {
        /// (monotonic ns when the wall clock was read, wall ns - monotonic ns)
        static OFFSET: Cell<Option<(i64, i64)>> = const { Cell::new(None) };
    }
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant
    // Linux supports since 2.6.32.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) } != 0 {
        return wall_unix_nanos().div_euclid(NANOS);
    }
    let mono = i64::from(ts.tv_sec) * NANOS + i64::from(ts.tv_nsec);
    OFFSET.with(|cell| {
        let offset = match cell.get() {
            Some((at, offset)) if (0..REFRESH).contains(&(mono - at)) => offset,
            _ => {
                let offset = wall_unix_nanos() - mono;
                cell.set(Some((mono, offset)));
                offset
            }
        };
        (mono + offset).div_euclid(NANOS)
    })
}

/// The wall clock in nanoseconds since the epoch, 64 bits whatever `time_t`
/// is: the `clock_gettime64` system call (Linux 5.1+, number 403 on 32-bit
/// ARM and x86), else the standard library's clock.
#[cfg(all(target_os = "linux", target_pointer_width = "32"))]
pub(super) fn wall_unix_nanos() -> i64 {
    /// The kernel's `struct __kernel_timespec`: two 64-bit fields on every target.
    #[repr(C)]
    struct KernelTimespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    #[cfg(any(target_arch = "arm", target_arch = "x86"))]
    {
        const SYS_CLOCK_GETTIME64: libc::c_long = 403;
        let mut ts = KernelTimespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` matches the kernel's __kernel_timespec layout and is
        // writable; an older kernel answers ENOSYS and leaves it untouched.
        let rc = unsafe {
            libc::syscall(
                SYS_CLOCK_GETTIME64,
                libc::CLOCK_REALTIME,
                &mut ts as *mut KernelTimespec,
            )
        };
        if rc == 0 {
            return ts.tv_sec * 1_000_000_000 + ts.tv_nsec;
        }
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// Elsewhere the `Date` header only needs whole seconds, which the normal
/// realtime clock gives as well (a little more slowly).
#[cfg(not(target_os = "linux"))]
fn coarse_unix_seconds() -> i64 {
    precise_unix_seconds()
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "32")))]
fn precise_unix_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Formats seconds since the Unix epoch as an IMF-fixdate (RFC 9110 §5.6.7).
pub(super) fn format_http_date(unix_secs: i64) -> HttpDate {
    const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
    ];
    let days = unix_secs.div_euclid(86_400);
    let secs_of_day = unix_secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    out[0..3].copy_from_slice(DAYS[days.rem_euclid(7) as usize]);
    two_digits(&mut out[5..7], day as i64);
    out[8..11].copy_from_slice(MONTHS[(month - 1) as usize]);
    let year = year.clamp(0, 9999);
    two_digits(&mut out[12..14], year / 100);
    two_digits(&mut out[14..16], year % 100);
    two_digits(&mut out[17..19], secs_of_day / 3600);
    two_digits(&mut out[20..22], secs_of_day / 60 % 60);
    two_digits(&mut out[23..25], secs_of_day % 60);
    out
}

fn two_digits(dst: &mut [u8], v: i64) {
    dst[0] = b'0' + (v / 10) as u8;
    dst[1] = b'0' + (v % 10) as u8;
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: i64) -> String {
        String::from_utf8(format_http_date(v).to_vec()).unwrap()
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(s(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(s(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(s(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(s(1_795_000_000), "Wed, 18 Nov 2026 11:06:40 GMT");
        assert_eq!(s(4_102_444_799), "Thu, 31 Dec 2099 23:59:59 GMT");
    }

    /// The instants a 32-bit `time_t` cannot hold: the last one it can, the
    /// first one past it, and later ones.
    #[test]
    fn formats_instants_past_2038() {
        assert_eq!(s(i64::from(i32::MAX)), "Tue, 19 Jan 2038 03:14:07 GMT");
        assert_eq!(s(i64::from(i32::MAX) + 1), "Tue, 19 Jan 2038 03:14:08 GMT");
        assert_eq!(s(i64::from(u32::MAX)), "Sun, 07 Feb 2106 06:28:15 GMT");
        assert_eq!(s(i64::from(u32::MAX) + 1), "Sun, 07 Feb 2106 06:28:16 GMT");
    }

    /// On 32-bit Linux the wall clock comes from the 64-bit system call: it
    /// must agree with the standard library's clock today.
    #[cfg(all(target_os = "linux", target_pointer_width = "32"))]
    #[test]
    fn wall_clock_64_agrees_with_std() {
        let std_now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let ours = wall_unix_nanos() / 1_000_000_000;
        assert!((ours - std_now).abs() <= 1, "{ours} vs {std_now}");
    }

    #[test]
    fn cached_date_is_now() {
        let d = http_date();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        // The coarse clock may lag by a tick; either neighbouring second is fine.
        assert!([s(now - 1), s(now), s(now + 1)].contains(&String::from_utf8(d.to_vec()).unwrap()));
    }
}
