//! Trip points: the temperatures at which the kernel acts on a thermal zone
//! (`thermal_zoneN/trip_point_M_{temp,type,hyst}`), read at scan time only
//! (drivers set them at registration; a rescan picks up the rare change),
//! judged, and the one that `cpu_temperature_trip_ratio` is measured against.
//!
//! A trip that is garbage costs that trip, never the zone's temperature: it
//! becomes a [`TripFault`], which the sampler logs and counts once (a fault
//! still there at the next scan is not news).

use std::fmt;
use std::io::Read;
use std::path::Path;

use super::attribute::numbered_entries;
use super::sensor::parse_millidegrees;

/// No silicon survives this: a higher trip is a driver's placeholder, not a
/// point where anything happens.
const HIGHEST_TRIP_CELSIUS: f64 = 250.0;

/// The trip types the kernel defines (`enum thermal_trip_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TripType {
    /// A fan or other active cooling starts.
    Active,
    /// The kernel starts slowing the device (cpufreq, idle injection).
    Passive,
    /// Userspace is notified; some platforms slow down here.
    Hot,
    /// The kernel shuts the machine down.
    Critical,
}

impl TripType {
    fn parse(text: &str) -> Option<TripType> {
        Some(match text {
            "active" => TripType::Active,
            "passive" => TripType::Passive,
            "hot" => TripType::Hot,
            "critical" => TripType::Critical,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TripType::Active => "active",
            TripType::Passive => "passive",
            TripType::Hot => "hot",
            TripType::Critical => "critical",
        }
    }
}

/// One trip point's files as a scan found them: raw text, `None` where the
/// file is missing or unreadable.
#[derive(Clone, Debug)]
pub(super) struct TripListing {
    /// The zone's directory name (`thermal_zone0`).
    pub zone: Box<str>,
    pub index: u64,
    pub temp: Option<Vec<u8>>,
    pub kind: Option<Vec<u8>>,
    /// Absent on drivers without hysteresis.
    pub hyst: Option<Vec<u8>>,
}

/// Every trip point of the zone in `dir` (any of its three files present),
/// in index order.
pub(super) fn list_trips(dir: &Path, zone: &str) -> Vec<TripListing> {
    let mut indices: Vec<u64> = ["_temp", "_type"]
        .iter()
        .flat_map(|suffix| numbered_entries(dir, "trip_point_", suffix))
        .map(|(index, _)| index)
        .collect();
    indices.sort_unstable();
    indices.dedup();
    let file = |index: u64, what: &str| read_small(&dir.join(format!("trip_point_{index}_{what}")));
    indices
        .into_iter()
        .map(|index| TripListing {
            zone: zone.into(),
            index,
            temp: file(index, "temp"),
            kind: file(index, "type"),
            hyst: file(index, "hyst"),
        })
        .collect()
}

/// At most 64 bytes of a file: a sysfs attribute is a line, and a huge fake
/// one must not be read whole.
fn read_small(path: &Path) -> Option<Vec<u8>> {
    let mut text = Vec::new();
    std::fs::File::open(path).ok()?.take(64).read_to_end(&mut text).ok()?;
    Some(text)
}

/// A trip point that passed [`judge`].
#[derive(Clone, Debug, PartialEq)]
pub struct Trip {
    pub zone: Box<str>,
    pub index: u64,
    pub kind: TripType,
    pub celsius: f64,
    pub hyst: Option<f64>,
    /// `zone, index, type`: the label values of the trip point families.
    pub labels: Vec<Box<str>>,
}

/// Why a trip point was dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TripFault {
    pub zone: Box<str>,
    pub index: u64,
    pub reason: String,
}

impl fmt::Display for TripFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let TripFault { zone, index, reason } = self;
        write!(f, "{zone} trip_point_{index} ignored: {reason}")
    }
}

/// Checks a listed trip point. `idle` is the zone's lowest reading seen so
/// far: a trip where the kernel slows or stops the machine (passive, hot,
/// critical) below that would have it throttling at rest, which no working
/// board does (x86_pkg_temp's unset thresholds read 0).
pub(super) fn judge(listing: &TripListing, idle: Option<f64>) -> Result<Trip, TripFault> {
    let index = listing.index;
    let fault = |reason: String| TripFault {
        zone: listing.zone.clone(),
        index,
        reason,
    };
    let temp = listing
        .temp
        .as_deref()
        .ok_or_else(|| fault(format!("trip_point_{index}_temp is missing or unreadable")))?;
    let celsius = parse_millidegrees(temp).map_err(|e| fault(format!("trip_point_{index}_temp: {e}")))?;
    let kind_text = listing
        .kind
        .as_deref()
        .ok_or_else(|| fault(format!("trip_point_{index}_type is missing or unreadable")))?;
    let kind_text = String::from_utf8_lossy(kind_text.trim_ascii());
    let kind = TripType::parse(&kind_text).ok_or_else(|| {
        fault(format!(
            "type {kind_text:?} is not one the kernel defines (active, passive, hot, critical)"
        ))
    })?;
    if celsius < 0.0 {
        return Err(fault(format!("{celsius} °C is below 0 °C")));
    }
    if celsius > HIGHEST_TRIP_CELSIUS {
        return Err(fault(format!("{celsius} °C is above {HIGHEST_TRIP_CELSIUS} °C")));
    }
    if let Some(idle) = idle.filter(|&idle| kind != TripType::Active && celsius < idle) {
        return Err(fault(format!(
            "a {} trip at {celsius} °C is below the zone's lowest reading ({idle} °C)",
            kind.as_str()
        )));
    }
    let hyst = match listing.hyst.as_deref().map(parse_millidegrees) {
        None => None,
        Some(Ok(h)) if (0.0..=HIGHEST_TRIP_CELSIUS).contains(&h) => Some(h),
        Some(Ok(h)) => {
            return Err(fault(format!(
                "hysteresis {h} °C is outside 0 to {HIGHEST_TRIP_CELSIUS} °C"
            )))
        }
        Some(Err(e)) => return Err(fault(format!("trip_point_{index}_hyst: {e}"))),
    };
    Ok(Trip {
        zone: listing.zone.clone(),
        index,
        kind,
        celsius,
        hyst,
        labels: vec![listing.zone.clone(), index.to_string().into(), kind.as_str().into()],
    })
}

/// The trip that `zone`'s headroom is measured against: its lowest passive
/// trip (where the kernel starts to slow the CPU), else its lowest hot trip,
/// else its lowest critical one; active trips (fans) slow nothing.
pub(super) fn headroom_trip<'a>(trips: &'a [Trip], zone: &str) -> Option<&'a Trip> {
    [TripType::Passive, TripType::Hot, TripType::Critical]
        .into_iter()
        .find_map(|kind| {
            trips
                .iter()
                .filter(|t| &*t.zone == zone && t.kind == kind)
                .min_by(|a, b| a.celsius.total_cmp(&b.celsius))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fake_sysfs::TestDir;

    fn listing(temp: &str, kind: &str, hyst: Option<&str>) -> TripListing {
        TripListing {
            zone: "thermal_zone0".into(),
            index: 1,
            temp: Some(temp.as_bytes().to_vec()),
            kind: Some(kind.as_bytes().to_vec()),
            hyst: hyst.map(|h| h.as_bytes().to_vec()),
        }
    }

    #[test]
    fn lists_trips_by_index_with_their_files() {
        let dir = TestDir::new("trips-list");
        dir.write("trip_point_0_temp", "90000\n");
        dir.write("trip_point_0_type", "critical\n");
        dir.write("trip_point_10_temp", "1\n");
        dir.write("trip_point_2_type", "passive\n");
        dir.write("trip_point_2_hyst", "2000\n");
        dir.write("trip_point_x_temp", "1\n");
        let found = list_trips(dir.path(), "thermal_zone0");
        let summary: Vec<_> = found
            .iter()
            .map(|t| (t.index, t.temp.is_some(), t.kind.is_some(), t.hyst.is_some()))
            .collect();
        assert_eq!(
            summary,
            [(0, true, true, false), (2, false, true, true), (10, true, false, false)]
        );
        assert_eq!(found[0].temp.as_deref(), Some(&b"90000\n"[..]));
        dir.write("trip_point_3_temp", &"9".repeat(10_000));
        let long = list_trips(dir.path(), "z").into_iter().find(|t| t.index == 3).unwrap();
        assert_eq!(long.temp.unwrap().len(), 64, "a huge file is read only in part");
    }

    #[test]
    fn accepts_what_boards_publish() {
        let t = judge(&listing("75000\n", "passive\n", Some("2000\n")), Some(40.0)).unwrap();
        assert_eq!((t.kind, t.celsius, t.hyst), (TripType::Passive, 75.0, Some(2.0)));
        assert_eq!(
            t.labels,
            ["thermal_zone0".into(), "1".into(), "passive".into()] as [Box<str>; 3]
        );
        // A fan's trip below the idle reading is just a fan that runs.
        let fan = judge(&listing("30000", "active", None), Some(40.0)).unwrap();
        assert_eq!((fan.kind, fan.hyst), (TripType::Active, None));
        assert!(judge(&listing("0", "critical", Some("0")), None).is_ok());
    }

    #[test]
    fn garbage_costs_the_trip_with_a_reason() {
        let reason = |l: TripListing, idle: Option<f64>| judge(&l, idle).unwrap_err().reason;
        let cases = [
            (listing("", "passive", None), "empty file"),
            (listing("hot\n", "passive", None), "not a value"),
            (listing("99999999999999999999", "passive", None), "not a value"),
            (listing("9000000", "critical", None), "above 250"),
            (listing("-274000", "critical", None), "below 0"),
            (listing("90000", "warm", None), "\"warm\" is not one the kernel defines"),
            (listing("90000", "", None), "\"\" is not one"),
            (listing("90000", "passive", Some("x")), "trip_point_1_hyst"),
            (listing("90000", "passive", Some("-1000")), "hysteresis -1 °C"),
        ];
        for (l, expected) in cases {
            let got = reason(l, None);
            assert!(got.contains(expected), "{got:?} lacks {expected:?}");
        }
        let below_idle = reason(listing("0\n", "passive", None), Some(45.0));
        assert_eq!(
            below_idle,
            "a passive trip at 0 °C is below the zone's lowest reading (45 °C)"
        );
        let missing = TripListing {
            temp: None,
            ..listing("1", "hot", None)
        };
        let fault = judge(&missing, None).unwrap_err();
        assert_eq!(
            fault.to_string(),
            "thermal_zone0 trip_point_1 ignored: trip_point_1_temp is missing or unreadable"
        );
    }

    #[test]
    fn headroom_uses_passive_then_hot_then_critical() {
        let trip = |zone: &str, index: u64, kind: &str, celsius: u32| {
            let l = TripListing {
                zone: zone.into(),
                index,
                ..listing(&format!("{}", celsius * 1000), kind, None)
            };
            judge(&l, None).unwrap()
        };
        let trips = [
            trip("a", 0, "critical", 115),
            trip("a", 1, "passive", 85),
            trip("a", 2, "passive", 75),
            trip("a", 3, "active", 50),
            trip("b", 0, "critical", 110),
            trip("b", 1, "hot", 100),
            trip("c", 0, "critical", 90),
            trip("d", 0, "active", 60),
        ];
        let pick = |zone| headroom_trip(&trips, zone).map(|t| t.celsius);
        assert_eq!(pick("a"), Some(75.0));
        assert_eq!(pick("b"), Some(100.0));
        assert_eq!(pick("c"), Some(90.0));
        assert_eq!(pick("d"), None, "a fan trip is no headroom");
        assert_eq!(pick("e"), None);
    }
}
