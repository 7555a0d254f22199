//! Reading sysfs' directory listings and one-line attributes, with the same
//! rules for every scan (zones, chips, trip points, cooling devices).

use std::path::Path;

/// Names in `dir` of the form `{prefix}{N}{suffix}`, with N decimal, sorted
/// by N (so `thermal_zone10` comes after `thermal_zone9`). Empty when `dir`
/// cannot be listed.
pub(super) fn numbered_entries(dir: &Path, prefix: &str, suffix: &str) -> Vec<(u64, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(u64, String)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|name| {
            let digits = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some((digits.parse().ok()?, name))
        })
        .collect();
    found.sort();
    found
}

/// A one-line attribute (`type`, `name`, `temp1_label`), trimmed; invalid
/// UTF-8 is replaced, not rejected (label values must be UTF-8). `None` when
/// the file cannot be read.
pub(super) fn read_attribute(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    Some(String::from_utf8_lossy(bytes.trim_ascii()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use fake_sysfs::TestDir;

    #[test]
    fn numbered_entries_sort_numerically_and_skip_others() {
        let dir = TestDir::new("attributes-numbered");
        for name in [
            "temp10_input",
            "temp2_input",
            "temp1_label",
            "temp_input",
            "tempA_input",
            "temp3_input~",
        ] {
            dir.write(name, "1");
        }
        assert_eq!(
            numbered_entries(dir.path(), "temp", "_input"),
            [(2, "temp2_input".to_string()), (10, "temp10_input".to_string())]
        );
        assert!(numbered_entries(&dir.path().join("missing"), "temp", "").is_empty());
    }

    #[test]
    fn attributes_are_trimmed_and_lossy() {
        let dir = TestDir::new("attributes-text");
        assert_eq!(
            read_attribute(&dir.write("a", "  Package id 0\n")),
            Some("Package id 0".into())
        );
        let raw = dir.path().join("b");
        std::fs::write(&raw, b"caf\xe9\n").unwrap();
        assert_eq!(read_attribute(&raw), Some("caf\u{fffd}".into()));
        assert_eq!(read_attribute(&dir.path().join("none")), None);
    }
}
