//! Parameter types shared by every request builder: [`Time`], [`List`], [`Date`], [`Scalar`],
//! and (re-exported) the generated enums of the spec's `enum` parameters.

pub mod encode;

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use crate::generated::params::*;

/// A time value (`timeout`, `scroll`, `keep_alive`…): from a [`Duration`] or an Elasticsearch
/// time string such as `"1m"`, `"30s"` or `"-1"`.
///
/// A `Duration` is written in the largest unit that keeps it exact:
/// `Duration::from_secs(90)` → `90s`, `Duration::from_secs(120)` → `2m`,
/// `Duration::from_millis(1500)` → `1500ms`.
///
/// # Example
/// ```
/// use es_api::params::Time;
/// use std::time::Duration;
///
/// assert_eq!(Time::from(Duration::from_secs(60)).as_str(), "1m");
/// assert_eq!(Time::from("30s").as_str(), "30s");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Time(String);

impl Time {
    /// The value as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Duration> for Time {
    fn from(d: Duration) -> Self {
        let nanos = d.as_nanos();
        const UNITS: [(u128, &str); 7] = [
            (86_400_000_000_000, "d"),
            (3_600_000_000_000, "h"),
            (60_000_000_000, "m"),
            (1_000_000_000, "s"),
            (1_000_000, "ms"),
            (1_000, "micros"),
            (1, "nanos"),
        ];
        if nanos == 0 {
            return Time("0s".to_owned());
        }
        let (size, unit) = UNITS
            .iter()
            .find(|(size, _)| nanos.is_multiple_of(*size))
            .expect("1 divides all");
        Time(format!("{}{unit}", nanos / size))
    }
}

impl From<&str> for Time {
    fn from(s: &str) -> Self {
        Time(s.to_owned())
    }
}

impl From<String> for Time {
    fn from(s: String) -> Self {
        Time(s)
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A comma-separated list (index names, fields, ids): from one string or a collection.
///
/// `"a"`, `String`, `["a", "b"]`, `vec!["a"]`, `&["a", "b"][..]` and iterators (via
/// `collect`) all convert. A single string is sent as it is, so `"a,b"` is a two-item list.
///
/// # Example
/// ```
/// use es_api::params::List;
///
/// assert_eq!(List::from(["logs-1", "logs-2"]).to_string(), "logs-1,logs-2");
/// assert_eq!(List::from("one").to_string(), "one");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct List(Vec<String>);

impl List {
    /// The items.
    pub fn items(&self) -> &[String] {
        &self.0
    }

    /// True when there is no item.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(item)?;
        }
        Ok(())
    }
}

impl From<&str> for List {
    fn from(s: &str) -> Self {
        List(vec![s.to_owned()])
    }
}

impl From<String> for List {
    fn from(s: String) -> Self {
        List(vec![s])
    }
}

impl From<&String> for List {
    fn from(s: &String) -> Self {
        List(vec![s.clone()])
    }
}

impl<T: Into<String>> From<Vec<T>> for List {
    fn from(v: Vec<T>) -> Self {
        List(v.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<String>, const N: usize> From<[T; N]> for List {
    fn from(v: [T; N]) -> Self {
        List(v.into_iter().map(Into::into).collect())
    }
}

impl<T: AsRef<str>> From<&[T]> for List {
    fn from(v: &[T]) -> Self {
        List(v.iter().map(|s| s.as_ref().to_owned()).collect())
    }
}

impl<S: Into<String>> FromIterator<S> for List {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        List(iter.into_iter().map(Into::into).collect())
    }
}

/// A date parameter (`start`, `end` of ML endpoints): an Elasticsearch date string, epoch
/// milliseconds, or a [`SystemTime`] (sent as RFC 3339 in UTC with milliseconds).
///
/// # Example
/// ```
/// use es_api::params::Date;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let d = Date::from(UNIX_EPOCH + Duration::from_millis(1_700_000_000_123));
/// assert_eq!(d.as_str(), "2023-11-14T22:13:20.123Z");
/// assert_eq!(Date::epoch_millis(5).as_str(), "5");
/// assert_eq!(Date::from("now-1d").as_str(), "now-1d");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Date(String);

impl Date {
    /// A date as milliseconds since the epoch.
    pub fn epoch_millis(millis: i64) -> Self {
        Date(millis.to_string())
    }

    /// The value as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Date {
    fn from(s: &str) -> Self {
        Date(s.to_owned())
    }
}

impl From<String> for Date {
    fn from(s: String) -> Self {
        Date(s)
    }
}

impl From<SystemTime> for Date {
    fn from(t: SystemTime) -> Self {
        let (neg, d) = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => (false, d),
            Err(e) => (true, e.duration()),
        };
        let millis = d.as_millis() as i64 * if neg { -1 } else { 1 };
        let days = millis.div_euclid(86_400_000);
        let ms_of_day = millis.rem_euclid(86_400_000);
        let (y, m, day) = es_transport::civil_from_days(days);
        Date(format!(
            "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            ms_of_day / 3_600_000,
            ms_of_day / 60_000 % 60,
            ms_of_day / 1000 % 60,
            ms_of_day % 1000
        ))
    }
}

/// A `chrono` date-time (feature `chrono`), as UTC with milliseconds (finer is truncated).
#[cfg(feature = "chrono")]
impl<Tz: chrono::TimeZone> From<chrono::DateTime<Tz>> for Date {
    fn from(t: chrono::DateTime<Tz>) -> Self {
        Date::from(SystemTime::from(t))
    }
}

/// A `time` date-time (feature `time`), as UTC with milliseconds (finer is truncated).
#[cfg(feature = "time")]
impl From<time::OffsetDateTime> for Date {
    fn from(t: time::OffsetDateTime) -> Self {
        Date::from(SystemTime::from(t))
    }
}

/// A `jiff` timestamp (feature `jiff`), as UTC with milliseconds (finer is truncated).
#[cfg(feature = "jiff")]
impl From<jiff::Timestamp> for Date {
    fn from(t: jiff::Timestamp) -> Self {
        Date::from(SystemTime::from(t))
    }
}

/// A `jiff` zoned date-time (feature `jiff`), as UTC with milliseconds.
#[cfg(feature = "jiff")]
impl From<jiff::Zoned> for Date {
    fn from(t: jiff::Zoned) -> Self {
        Date::from(t.timestamp())
    }
}

/// A parameter that is one of several scalar types in the spec (`boolean|long` such as
/// `track_total_hits`, `number|string` such as `slices`).
///
/// # Example
/// ```
/// use es_api::params::Scalar;
///
/// assert_eq!(Scalar::from(true).as_str(), "true");
/// assert_eq!(Scalar::from(10_000).as_str(), "10000");
/// assert_eq!(Scalar::from("auto").as_str(), "auto");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scalar(String);

impl Scalar {
    /// The value as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! scalar_from_display {
    ($($t:ty),*) => {$(
        impl From<$t> for Scalar {
            fn from(v: $t) -> Self {
                Scalar(v.to_string())
            }
        }
    )*};
}
scalar_from_display!(bool, i32, i64, u32, u64, f64, &str, String);

/// How many shard copies must be active before a write proceeds (`wait_for_active_shards`):
/// a number (`1`, the default, is the primary alone) or every copy.
///
/// # Example
/// ```
/// use es_api::params::ActiveShards;
///
/// assert_eq!(ActiveShards::from(2).as_str(), "2");
/// assert_eq!(ActiveShards::All.as_str(), "all");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActiveShards {
    /// Every copy (primary and replicas): `all`.
    All,
    /// This many copies, the primary included.
    Count(u32),
}

impl ActiveShards {
    /// The value as sent.
    pub fn as_str(&self) -> Cow<'static, str> {
        match self {
            ActiveShards::All => Cow::Borrowed("all"),
            ActiveShards::Count(n) => Cow::Owned(n.to_string()),
        }
    }
}

impl From<u32> for ActiveShards {
    fn from(n: u32) -> Self {
        ActiveShards::Count(n)
    }
}

impl fmt::Display for ActiveShards {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl ToParam for ActiveShards {
    fn to_param(&self) -> Cow<'_, str> {
        self.as_str()
    }
}

/// How a value is written into a path or query string (before percent-encoding).
pub(crate) trait ToParam {
    fn to_param(&self) -> Cow<'_, str>;
}

impl ToParam for &str {
    fn to_param(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl ToParam for String {
    fn to_param(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl ToParam for bool {
    fn to_param(&self) -> Cow<'_, str> {
        Cow::Borrowed(if *self { "true" } else { "false" })
    }
}

impl ToParam for i64 {
    fn to_param(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
}

impl ToParam for f64 {
    fn to_param(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
}

impl ToParam for List {
    fn to_param(&self) -> Cow<'_, str> {
        match self.0.as_slice() {
            [one] => Cow::Borrowed(one),
            _ => Cow::Owned(self.to_string()),
        }
    }
}

macro_rules! to_param_as_str {
    ($($t:ty),*) => {$(
        impl ToParam for $t {
            fn to_param(&self) -> Cow<'_, str> {
                Cow::Borrowed(self.as_str())
            }
        }
    )*};
}
to_param_as_str!(Time, Date, Scalar);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_the_largest_exact_unit() {
        let t = |d: Duration| Time::from(d).0;
        assert_eq!(t(Duration::ZERO), "0s");
        assert_eq!(t(Duration::from_secs(90)), "90s");
        assert_eq!(t(Duration::from_secs(120)), "2m");
        assert_eq!(t(Duration::from_secs(7200)), "2h");
        assert_eq!(t(Duration::from_secs(172_800)), "2d");
        assert_eq!(t(Duration::from_millis(1500)), "1500ms");
        assert_eq!(t(Duration::from_micros(3)), "3micros");
        assert_eq!(t(Duration::from_nanos(7)), "7nanos");
    }

    #[test]
    fn lists_from_many_shapes() {
        let owned = String::from("b");
        assert_eq!(List::from("a").to_string(), "a");
        assert_eq!(List::from(&owned).to_string(), "b");
        assert_eq!(List::from(vec!["a", "b"]).to_string(), "a,b");
        assert_eq!(List::from(&["a", "b"][..]).to_string(), "a,b");
        assert_eq!(
            List::from_iter(["x"].iter().map(|s| s.to_string())).to_string(),
            "x"
        );
        assert!(List::from(Vec::<String>::new()).is_empty());
    }

    #[test]
    fn dates_render_in_utc() {
        assert_eq!(Date::from(UNIX_EPOCH).as_str(), "1970-01-01T00:00:00.000Z");
        let before = UNIX_EPOCH - Duration::from_millis(1);
        assert_eq!(Date::from(before).as_str(), "1969-12-31T23:59:59.999Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(Date::from(leap).as_str(), "2000-02-29T00:00:00.000Z");
    }

    /// 2024-02-29T13:45:30.123456789+02:00 is 11:45:30.123Z, from each date library.
    #[test]
    fn dates_from_the_date_libraries() {
        const WANT: &str = "2024-02-29T11:45:30.123Z";
        let secs = 1_709_207_130;
        let nanos = 123_456_789;
        #[cfg(feature = "chrono")]
        {
            use chrono::{FixedOffset, TimeZone};
            let t = FixedOffset::east_opt(7200)
                .unwrap()
                .timestamp_opt(secs, nanos)
                .unwrap();
            assert_eq!(Date::from(t).as_str(), WANT);
        }
        #[cfg(feature = "time")]
        {
            let t = time::OffsetDateTime::from_unix_timestamp_nanos(
                i128::from(secs) * 1_000_000_000 + i128::from(nanos),
            )
            .unwrap()
            .to_offset(time::UtcOffset::from_hms(2, 0, 0).unwrap());
            assert_eq!(Date::from(t).as_str(), WANT);
        }
        #[cfg(feature = "jiff")]
        {
            let t = jiff::Timestamp::new(secs, nanos as i32).unwrap();
            assert_eq!(Date::from(t).as_str(), WANT);
            let z = t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(2)));
            assert_eq!(Date::from(z).as_str(), WANT);
        }
        let _ = (secs, nanos, WANT);
    }
}
