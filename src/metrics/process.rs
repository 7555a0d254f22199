//! Process metrics under client_golang's names, read from `/proc/self` and
//! `getrlimit` at scrape time without touching the heap.
//!
//! procfs is Linux's. Elsewhere (macOS, the BSDs) only what POSIX offers
//! without it is exported: `process_cpu_seconds_total` from `getrusage` and
//! `process_max_fds` from `getrlimit`; memory, open fds and start time are
//! left out rather than reported as 0 (see [`Field::available`]).
//!
//! One reading serves the six families of a scrape: the first family read in
//! a scrape refreshes a shared snapshot (atomics), the others reuse it while
//! it is younger than [`FRESH_FOR`].

#[cfg(target_os = "linux")]
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{AtomicF64, Collector, Desc, MetricType, RegisterError, Registry, Sample, Value};

const FRESH_FOR: Duration = Duration::from_millis(100);

/// What `/proc/self/stat`, `/proc/self/fd` and `getrlimit` said last.
struct ProcessStats {
    epoch: Instant,
    /// Nanoseconds after `epoch` of the last reading, plus one (0 = never).
    read_at: AtomicU64,
    cpu_seconds: AtomicF64,
    resident_bytes: AtomicU64,
    virtual_bytes: AtomicU64,
    open_fds: AtomicU64,
    max_fds: AtomicF64,
    start_time_seconds: f64,
    #[cfg(target_os = "linux")]
    ticks_per_second: f64,
    #[cfg(target_os = "linux")]
    page_size: f64,
}

impl ProcessStats {
    fn new() -> ProcessStats {
        #[cfg(target_os = "linux")]
        // SAFETY: sysconf with a valid constant name has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        ProcessStats {
            epoch: Instant::now(),
            read_at: AtomicU64::new(0),
            cpu_seconds: AtomicF64::new(0.0),
            resident_bytes: AtomicU64::new(0),
            virtual_bytes: AtomicU64::new(0),
            open_fds: AtomicU64::new(0),
            max_fds: AtomicF64::new(0.0),
            #[cfg(target_os = "linux")]
            start_time_seconds: start_time_seconds(ticks).unwrap_or(0.0),
            #[cfg(not(target_os = "linux"))]
            start_time_seconds: 0.0,
            #[cfg(target_os = "linux")]
            ticks_per_second: ticks,
            #[cfg(target_os = "linux")]
            // SAFETY: sysconf with a valid constant name has no preconditions.
            page_size: unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as f64,
        }
    }

    /// Re-reads everything unless a reading is younger than [`FRESH_FOR`].
    fn refresh(&self) {
        let now = self.epoch.elapsed().as_nanos() as u64 + 1;
        let last = self.read_at.load(Ordering::Acquire);
        if last != 0 && now - last < FRESH_FOR.as_nanos() as u64 {
            return;
        }
        self.read_platform();
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `limit` is a valid out-pointer for getrlimit.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
            let max = if limit.rlim_cur == libc::RLIM_INFINITY {
                f64::INFINITY
            } else {
                limit.rlim_cur as f64
            };
            self.max_fds.set(max);
        }
        self.read_at.store(now, Ordering::Release);
    }

    /// CPU time, memory and open fds from procfs.
    #[cfg(target_os = "linux")]
    fn read_platform(&self) {
        let mut buf = [0u8; 1024];
        if let Some(stat) = read_small("/proc/self/stat", &mut buf) {
            if let Some(f) = StatFields::parse(stat) {
                self.cpu_seconds.set((f.utime + f.stime) as f64 / self.ticks_per_second);
                self.virtual_bytes.store(f.vsize, Ordering::Relaxed);
                self.resident_bytes
                    .store((f.rss as f64 * self.page_size) as u64, Ordering::Relaxed);
            }
        }
        if let Some(n) = count_open_fds() {
            self.open_fds.store(n, Ordering::Relaxed);
        }
    }

    /// Without procfs only the CPU time is at hand, from `getrusage`.
    #[cfg(not(target_os = "linux"))]
    fn read_platform(&self) {
        if let Some(cpu) = rusage_cpu_seconds() {
            self.cpu_seconds.set(cpu);
        }
    }
}

/// User + system CPU time of the whole process, from `getrusage`: the
/// portable source outside Linux. Compiled on Linux for its test, which
/// checks it against procfs.
#[cfg(any(not(target_os = "linux"), test))]
fn rusage_cpu_seconds() -> Option<f64> {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid out-pointer for getrusage.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return None;
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some(seconds(usage.ru_utime) + seconds(usage.ru_stime))
}

/// The fields of `/proc/self/stat` this module uses (the parser is
/// platform-neutral text handling, so its test runs everywhere).
#[cfg(any(target_os = "linux", test))]
#[derive(Debug, PartialEq, Eq)]
struct StatFields {
    utime: u64,
    stime: u64,
    starttime: u64,
    vsize: u64,
    rss: u64,
}

#[cfg(any(target_os = "linux", test))]
impl StatFields {
    /// Fields are counted after the command name's closing parenthesis, which
    /// may itself contain spaces and parentheses.
    fn parse(stat: &[u8]) -> Option<StatFields> {
        let close = stat.iter().rposition(|&b| b == b')')?;
        let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
        // After ')': field 3 (state) is the first; utime is field 14.
        let mut fields = rest.split_ascii_whitespace();
        let mut nth = |skip: usize| -> Option<u64> { fields.nth(skip)?.parse().ok() };
        let utime = nth(11)?; // field 14
        let stime = nth(0)?; // 15
        let starttime = nth(6)?; // 22
        let vsize = nth(0)?; // 23
        let rss = nth(0)?; // 24
        Some(StatFields {
            utime,
            stime,
            starttime,
            vsize,
            rss,
        })
    }
}

/// Reads a small file into `buf` (std opens short paths without allocating).
#[cfg(target_os = "linux")]
fn read_small<'a>(path: &str, buf: &'a mut [u8]) -> Option<&'a [u8]> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(&buf[..len])
}

/// Counts `/proc/self/fd` entries with `getdents64` into a stack buffer
/// (`read_dir` and `opendir` would allocate), minus the directory's own fd.
#[cfg(target_os = "linux")]
fn count_open_fds() -> Option<u64> {
    // SAFETY: a NUL-terminated constant path; the fd is closed below.
    let fd = unsafe {
        libc::open(
            c"/proc/self/fd".as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return None;
    }
    let mut buf = [0u8; 4096];
    let mut count = 0u64;
    let ok = loop {
        // SAFETY: `buf` is writable for its length; `fd` is an open directory.
        let n = unsafe { libc::syscall(libc::SYS_getdents64, fd, buf.as_mut_ptr(), buf.len()) };
        if n < 0 {
            break false;
        }
        if n == 0 {
            break true;
        }
        let mut off = 0usize;
        while off < n as usize {
            // struct linux_dirent64 { u64 ino; i64 off; u16 reclen; u8 type; char name[]; }
            let reclen = u16::from_ne_bytes([buf[off + 16], buf[off + 17]]) as usize;
            let name = &buf[off + 19..off + reclen];
            let is_dot = name.starts_with(b".\0") || name.starts_with(b"..\0");
            if !is_dot {
                count += 1;
            }
            off += reclen;
        }
    };
    // SAFETY: `fd` was opened above and is not used afterwards.
    unsafe { libc::close(fd) };
    ok.then(|| count.saturating_sub(1))
}

/// Process start as seconds since the Unix epoch: boot time + start ticks.
#[cfg(target_os = "linux")]
fn start_time_seconds(ticks_per_second: f64) -> Option<f64> {
    let stat = std::fs::read("/proc/self/stat").ok()?;
    let fields = StatFields::parse(&stat)?;
    let boot = std::fs::read_to_string("/proc/stat").ok()?;
    let btime: f64 = boot
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    Some(btime + fields.starttime as f64 / ticks_per_second)
}

#[derive(Clone, Copy)]
enum Field {
    Cpu,
    Resident,
    Virtual,
    OpenFds,
    MaxFds,
    StartTime,
}

impl Field {
    /// Whether this platform can say it: all of them on Linux; elsewhere
    /// the ones `getrusage` and `getrlimit` give (no procfs). A family that
    /// cannot be read is not registered, so it is absent, not a false 0.
    fn available(self) -> bool {
        cfg!(target_os = "linux") || matches!(self, Field::Cpu | Field::MaxFds)
    }
}

struct ProcessFamily {
    desc: Desc,
    stats: Arc<ProcessStats>,
    field: Field,
}

impl Collector for ProcessFamily {
    fn desc(&self) -> &Desc {
        &self.desc
    }

    fn collect(&self, emit: &mut dyn FnMut(Sample<'_>)) {
        let s = &self.stats;
        s.refresh();
        let value = match self.field {
            Field::Cpu => Value::Float(s.cpu_seconds.get()),
            Field::Resident => Value::Int(s.resident_bytes.load(Ordering::Relaxed)),
            Field::Virtual => Value::Int(s.virtual_bytes.load(Ordering::Relaxed)),
            Field::OpenFds => Value::Int(s.open_fds.load(Ordering::Relaxed)),
            Field::MaxFds => Value::Float(s.max_fds.get()),
            Field::StartTime => Value::Float(s.start_time_seconds),
        };
        emit(Sample::new(&[], value));
    }
}

/// Registers `process_cpu_seconds_total`, `process_resident_memory_bytes`,
/// `process_virtual_memory_bytes`, `process_open_fds`, `process_max_fds` and
/// `process_start_time_seconds` (client_golang's names and help texts).
pub fn register_process_metrics(registry: &mut Registry) -> Result<(), RegisterError> {
    let stats = Arc::new(ProcessStats::new());
    let families = [
        (
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            MetricType::Counter,
            Field::Cpu,
        ),
        (
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            MetricType::Gauge,
            Field::Resident,
        ),
        (
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            MetricType::Gauge,
            Field::Virtual,
        ),
        (
            "process_open_fds",
            "Number of open file descriptors.",
            MetricType::Gauge,
            Field::OpenFds,
        ),
        (
            "process_max_fds",
            "Maximum number of open file descriptors.",
            MetricType::Gauge,
            Field::MaxFds,
        ),
        (
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            MetricType::Gauge,
            Field::StartTime,
        ),
    ];
    for (name, help, metric_type, field) in families {
        if !field.available() {
            continue;
        }
        let desc = Desc::new(name, help, metric_type, &[]).expect("constant names are valid");
        registry.register(Arc::new(ProcessFamily {
            desc,
            stats: stats.clone(),
            field,
        }))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_command_names() {
        let line =
            b"42 (a b) c)) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 555 1000000 250 18446744073709551615";
        let f = StatFields::parse(line).unwrap();
        assert_eq!(
            f,
            StatFields {
                utime: 7,
                stime: 3,
                starttime: 555,
                vsize: 1_000_000,
                rss: 250
            }
        );
        assert_eq!(StatFields::parse(b"42 (x) S 1"), None);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn reads_this_process() {
        let s = ProcessStats::new();
        s.refresh();
        assert!(s.resident_bytes.load(Ordering::Relaxed) > 100_000);
        assert!(s.virtual_bytes.load(Ordering::Relaxed) >= s.resident_bytes.load(Ordering::Relaxed));
        let before = count_open_fds().unwrap();
        let files: Vec<_> = (0..20)
            .map(|_| std::fs::File::open("/proc/self/stat").unwrap())
            .collect();
        let after = count_open_fds().unwrap();
        // Other tests open and close files meanwhile: allow them some slack.
        assert!(after >= before + 10, "{before} fds, then {after} after opening 20");
        drop(files);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!(s.start_time_seconds > now - 3600.0 && s.start_time_seconds <= now + 1.0);
        assert!(s.max_fds.get() >= 64.0);
    }

    /// The non-Linux CPU source, checked here against procfs: same unit
    /// (seconds), same order of magnitude, and it moves with CPU work.
    #[test]
    #[cfg(target_os = "linux")]
    fn rusage_agrees_with_procfs() {
        let s = ProcessStats::new();
        let before = rusage_cpu_seconds().unwrap();
        // Burn a little CPU; bounded by iterations and by a 5 s deadline.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut x = 0u64;
        while rusage_cpu_seconds().unwrap() < before + 0.02 && Instant::now() < deadline {
            for i in 0..100_000u64 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
            }
        }
        let after = rusage_cpu_seconds().unwrap();
        assert!(after > before, "getrusage did not move: {before} -> {after}");
        s.refresh();
        let procfs = s.cpu_seconds.get();
        // Other test threads run meanwhile and procfs counts in clock ticks.
        assert!((procfs - after).abs() < 1.0, "procfs {procfs} s, getrusage {after} s");
    }
}
