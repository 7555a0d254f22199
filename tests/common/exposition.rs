//! The one parser of a text exposition (or OpenMetrics) in the tests: each
//! sample's series text, name, labels (escapes undone) and value text, so
//! tests can assert exact formatting as well as values.

use std::collections::BTreeMap;

pub struct Metrics {
    pub raw: String,
    pub samples: Vec<ParsedSample>,
}

pub struct ParsedSample {
    /// The text before the value: `name{a="x",b="y"}`, escapes kept.
    pub series: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: String,
}

impl Metrics {
    pub fn parse(text: &str) -> Metrics {
        let samples = text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(parse_sample)
            .collect();
        Metrics {
            raw: text.to_string(),
            samples,
        }
    }

    /// The value text of the series with exactly these labels.
    pub fn text(&self, name: &str, labels: &[(&str, &str)]) -> Option<&str> {
        let wanted: BTreeMap<String, String> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels == wanted)
            .map(|s| s.value.as_str())
    }

    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.text(name, labels).map(|v| v.parse().expect("a number"))
    }

    /// Every series of the family `name`: (labels, value).
    pub fn family(&self, name: &str) -> Vec<(BTreeMap<String, String>, f64)> {
        self.samples
            .iter()
            .filter(|s| s.name == name)
            .map(|s| (s.labels.clone(), s.value.parse().expect("a number")))
            .collect()
    }
}

/// `name{a="x",b="y \"q\""} value` into its parts, label escapes undone.
fn parse_sample(line: &str) -> ParsedSample {
    let mut labels = BTreeMap::new();
    let Some(open) = line.find('{') else {
        let (name, value) = line.split_once(' ').expect("name and value");
        return ParsedSample {
            series: name.to_string(),
            name: name.to_string(),
            labels,
            value: value.trim().to_string(),
        };
    };
    let mut rest = &line[open + 1..];
    loop {
        rest = rest.strip_prefix(',').unwrap_or(rest);
        if let Some(after) = rest.strip_prefix('}') {
            return ParsedSample {
                series: line[..line.len() - after.len()].to_string(),
                name: line[..open].to_string(),
                labels,
                value: after.trim().to_string(),
            };
        }
        let (key, after) = rest.split_once("=\"").expect("label=\"");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().expect("closing quote") {
                (i, '"') => break i,
                (_, '\\') => match chars.next().expect("escaped char").1 {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                (_, c) => value.push(c),
            }
        };
        labels.insert(key.to_string(), value);
        rest = &after[end + 1..];
    }
}
