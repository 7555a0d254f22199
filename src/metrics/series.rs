//! `SeriesLabels`: the closed set of label value sets a vector metric
//! (`CounterVec`, `GaugeVec`, `HistogramVec`) is built with.
//!
//! Each series keeps its values, and the same values written once as the
//! exposition's label pairs by the encoding module: they never change, so a
//! scrape copies them instead of escaping them again (a third of a scrape's
//! work was escaping the same label values every time).

use super::desc::Desc;
use super::encoding::label_pairs;
use super::registry::{Sample, Value};

pub(crate) struct SeriesLabels {
    values: Box<[Box<[Box<str>]>]>,
    pairs: Box<[Box<str>]>,
}

impl SeriesLabels {
    /// `series[i]` holds the values of series `i`, in the order of `desc`'s
    /// label names; panics on a count that does not match them.
    pub(crate) fn new(desc: &Desc, series: &[&[&str]]) -> SeriesLabels {
        let names = desc.label_names();
        for values in series {
            assert_eq!(values.len(), names.len(), "label value count mismatch");
        }
        SeriesLabels {
            values: series
                .iter()
                .map(|vs| vs.iter().map(|v| Box::<str>::from(*v)).collect())
                .collect(),
            pairs: series
                .iter()
                .map(|vs| label_pairs(names.iter().map(|n| &**n).zip(vs.iter().copied())))
                .collect(),
        }
    }

    /// The position of the series with these values (linear scan: tests and
    /// tooling only).
    pub(crate) fn index_of(&self, values: &[&str]) -> Option<usize> {
        self.values
            .iter()
            .position(|s| s.len() == values.len() && s.iter().zip(values).all(|(a, b)| &**a == *b))
    }

    /// The label pairs of series `index` followed by `extra`'s.
    pub(crate) fn pairs_with(&self, index: usize, names: &[Box<str>], extra: (&str, &str)) -> Box<str> {
        let values = self.values[index].iter().map(|v| &**v);
        label_pairs(names.iter().map(|n| &**n).zip(values).chain([extra]))
    }

    /// A plain sample of series `index`.
    pub(crate) fn sample(&self, index: usize, value: Value) -> Sample<'_> {
        Sample {
            encoded_labels: Some(&self.pairs[index]),
            ..Sample::new(&self.values[index], value)
        }
    }
}
