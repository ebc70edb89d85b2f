//! How deep a value nests and how much memory it takes, measured against the bounds every
//! value a conversation holds stays within. Measuring stops as soon as a bound breaks, so it
//! costs at most what the bounds allow, however large the value.

use super::Value;
use std::fmt;

/// The most one value may nest and weigh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValueBounds {
    /// Lists and records inside one another: a scalar nests 0 deep, `[1]` 1, `[{a: 1}]` 2.
    pub max_depth: usize,
    /// Memory, as [`Measure::bytes`] counts it.
    pub max_bytes: usize,
}

/// Bytes every value takes where it is held (a list's buffer, a record, a parameter).
pub(super) const VALUE_BYTES: usize = std::mem::size_of::<Value>();
/// Bytes a record field takes besides its value and its key's text: the key, its hash, its
/// index slot.
const FIELD_BYTES: usize = std::mem::size_of::<String>() + 2 * std::mem::size_of::<usize>();

/// How deep a value nests and what it weighs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measure {
    pub depth: usize,
    /// The memory the value takes: each value in it counts its own size plus its text, each
    /// record field its key.
    pub bytes: usize,
}

impl Measure {
    /// An empty list or record.
    pub fn container() -> Measure {
        Measure {
            depth: 1,
            bytes: VALUE_BYTES,
        }
    }

    /// What a record field takes besides its value.
    pub(super) fn field(key: &str) -> usize {
        FIELD_BYTES + key.len()
    }

    /// A value without lists or records inside; `text` is what it holds.
    fn scalar(text: usize) -> Measure {
        Measure {
            depth: 0,
            bytes: VALUE_BYTES + text,
        }
    }

    /// Counts one more item of this container (a record field when `key` is given), failing
    /// as soon as the whole breaks `bounds`.
    pub fn add(
        &mut self,
        item: Measure,
        key: Option<&str>,
        bounds: &ValueBounds,
    ) -> Result<(), Breach> {
        self.depth = self.depth.max(item.depth + 1);
        self.bytes += item.bytes + key.map_or(0, Measure::field);
        self.within(bounds)
    }

    /// Fails when this measure breaks `bounds`.
    pub fn within(&self, bounds: &ValueBounds) -> Result<(), Breach> {
        if self.depth > bounds.max_depth {
            return Err(Breach::TooDeep {
                limit: bounds.max_depth,
            });
        }
        if self.bytes > bounds.max_bytes {
            return Err(Breach::TooLarge {
                limit: bounds.max_bytes,
            });
        }
        Ok(())
    }
}

/// A value that breaks [`ValueBounds`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Breach {
    TooDeep { limit: usize },
    TooLarge { limit: usize },
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Breach::TooDeep { limit } => write!(
                f,
                "the value nests more than {limit} lists or records deep (the limit on a \
                 value's depth); keep it flatter, e.g. a list of entries instead of each entry \
                 inside the one before"
            ),
            Breach::TooLarge { limit } => write!(
                f,
                "the value takes more than {} of memory (the limit on a value's size); keep \
                 only the fields and items you need",
                mebibytes(*limit)
            ),
        }
    }
}

/// `32 MiB`, or bytes when the limit is not a whole number of MiB (tests use small ones).
pub fn mebibytes(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

impl Value {
    /// Measures the value, stopping at the first bound it breaks.
    pub fn measure(&self, bounds: &ValueBounds) -> Result<Measure, Breach> {
        let measure = match self {
            Value::Text(s) => Measure::scalar(s.len()),
            Value::List(items) => {
                let mut measure = Measure::container();
                for item in items {
                    measure.add(item.measure_inside(bounds)?, None, bounds)?;
                }
                measure
            }
            Value::Record(map) => {
                let mut measure = Measure::container();
                for (key, item) in map {
                    measure.add(item.measure_inside(bounds)?, Some(key), bounds)?;
                }
                measure
            }
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::Duration(_) => {
                Measure::scalar(0)
            }
        };
        measure.within(bounds)?;
        Ok(measure)
    }

    /// Measures an item of a container: one level less is left for it, so the walk never
    /// goes deeper than `bounds` allow.
    fn measure_inside(&self, bounds: &ValueBounds) -> Result<Measure, Breach> {
        let inner = ValueBounds {
            max_depth: bounds.max_depth.checked_sub(1).ok_or(Breach::TooDeep {
                limit: bounds.max_depth,
            })?,
            ..*bounds
        };
        self.measure(&inner).map_err(|breach| match breach {
            Breach::TooDeep { .. } => Breach::TooDeep {
                limit: bounds.max_depth,
            },
            too_large => too_large,
        })
    }
}
