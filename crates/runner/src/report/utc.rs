//! Unix times as UTC calendar minutes, for the tables that say when a sweep trained. The
//! harness has no date library; the conversion is Howard Hinnant's `civil_from_days`.

/// `t` (seconds since 1970-01-01 UTC) as `YYYY-MM-DD HH:MM`, the seconds dropped.
pub(super) fn utc_minute(t: f64) -> String {
    let minutes = (t / 60.0).floor() as i64;
    let (days, minute_of_day) = (minutes.div_euclid(1440), minutes.rem_euclid(1440));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        minute_of_day / 60,
        minute_of_day % 60
    )
}

/// The proleptic Gregorian date of a day counted from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(utc_minute(0.0), "1970-01-01 00:00");
        // As `date -u -d @1764654459` writes it, less the seconds.
        assert_eq!(utc_minute(1_764_654_459.9), "2025-12-02 05:47");
        assert_eq!(utc_minute(951_782_400.0), "2000-02-29 00:00");
        assert_eq!(utc_minute(1_798_761_599.0), "2026-12-31 23:59");
    }
}
