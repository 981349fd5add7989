//! Times as people read them: "3 minutes ago".

use chrono::{DateTime, Utc};

/// How long ago `then` was, seen from `now`, in words ("just now", "5 minutes ago",
/// "yesterday", "3 weeks ago"). A time in the future (clock skew) reads as "just now".
pub fn relative_time(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - then).num_seconds();
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match seconds {
        ..45 => "just now".to_owned(),
        45..3_600 => plural(((seconds + 30) / 60).max(1), "minute"),
        3_600..86_400 => plural(seconds / 3_600, "hour"),
        86_400..172_800 => "yesterday".to_owned(),
        172_800..1_209_600 => plural(seconds / 86_400, "day"),
        1_209_600..5_184_000 => plural(seconds / 604_800, "week"),
        5_184_000..31_536_000 => plural(seconds / 2_592_000, "month"),
        _ => plural(seconds / 31_536_000, "year"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn recent_and_future_times_are_just_now() {
        let now = Utc::now();
        assert_eq!(relative_time(now, now), "just now");
        assert_eq!(relative_time(now - Duration::seconds(44), now), "just now");
        assert_eq!(relative_time(now + Duration::minutes(5), now), "just now");
    }

    #[test]
    fn each_unit_reads_naturally() {
        let now = Utc::now();
        let cases = [
            (Duration::seconds(50), "1 minute ago"),
            (Duration::minutes(3), "3 minutes ago"),
            (Duration::minutes(59), "59 minutes ago"),
            (Duration::minutes(61), "1 hour ago"),
            (Duration::hours(23), "23 hours ago"),
            (Duration::hours(30), "yesterday"),
            (Duration::days(3), "3 days ago"),
            (Duration::days(15), "2 weeks ago"),
            (Duration::days(70), "2 months ago"),
            (Duration::days(800), "2 years ago"),
        ];
        for (ago, text) in cases {
            assert_eq!(relative_time(now - ago, now), text, "{ago:?}");
        }
    }
}
