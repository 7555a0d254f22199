//! Scratch directories for fake sysfs trees, FIFOs that make a sensor read
//! hang, and a bounded wait: a dev-dependency of custom-metrics-app, shared
//! by its integration tests and the unit tests of `src/temperature`, so
//! test code stays on the test side (std only: no tempdir crate for a few
//! dozen lines).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A directory under the temporary directory, removed on drop.
pub struct TestDir {
    path: PathBuf,
}

impl TestDir {
    /// A new empty directory, unique per process and call.
    pub fn new(tag: &str) -> TestDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "cma-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create test dir");
        TestDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `text` to `relative` in place (same inode, as sysfs values
    /// change), creating parent directories; returns the full path.
    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.path.join(relative);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("create dirs");
        std::fs::write(&path, text).expect("write test file");
        path
    }

    /// Makes a FIFO at `relative`: opening it for reading blocks until a
    /// writer comes, which is how tests make a sensor read hang.
    pub fn fifo(&self, relative: &str) -> PathBuf {
        use std::os::unix::ffi::OsStrExt;
        let path = self.path.join(relative);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("create dirs");
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("no NUL in path");
        // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
        let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
        assert_eq!(rc, 0, "mkfifo: {}", std::io::Error::last_os_error());
        path
    }

    /// Releases a reader blocked opening the FIFO at `path` (a non-blocking
    /// writer open succeeds only while a reader waits); the returned writer
    /// keeps further opens from blocking until it is dropped.
    pub fn release_fifo(path: &Path) -> std::io::Result<std::fs::File> {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Polls `done` every 5 ms until it holds; fails the test after 10 s.
pub fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}
