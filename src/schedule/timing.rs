//! When the job runs: `--every MINUTES` or `--schedule EXPR` → a cron schedule, and where it
//! can be said as a list of minutes and hours, the same times for systemd and launchd.
//! Pure: no I/O.

use anyhow::{bail, Result};

/// The job's times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// The five cron fields (or `@hourly`, …).
    pub cron: String,
    /// The same times as explicit lists, when they are that simple (day, month and weekday
    /// all `*`); systemd's OnCalendar and launchd's StartCalendarInterval need them.
    pub times: Option<Times>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Times {
    /// The minutes of the hour, ascending.
    pub minutes: Vec<u32>,
    /// The hours of the day, ascending; `None` is every hour.
    pub hours: Option<Vec<u32>>,
}

impl Times {
    /// systemd's `OnCalendar=` for these times.
    pub fn calendar(&self) -> String {
        let hours = self.hours.as_deref().map_or("*".into(), list);
        let minutes = if self.minutes.len() == 60 {
            "*".into()
        } else {
            list(&self.minutes)
        };
        format!("*-*-* {hours}:{minutes}:00")
    }
}

fn list(values: &[u32]) -> String {
    let texts: Vec<String> = values.iter().map(u32::to_string).collect();
    texts.join(",")
}

/// The times of `--every` (default 60) or `--schedule`, spread over the hour (and day) by
/// `name`, so that the machines of a fleet do not all write to ClickHouse at the same moment.
/// The error is a usage error, said as such.
pub fn timing(every: Option<u32>, schedule: Option<&str>, name: &str) -> Result<Timing> {
    if let Some(expression) = schedule {
        return parse_schedule(expression);
    }
    let every = every.unwrap_or(60);
    let hash = cksum(name.as_bytes());
    if (1..=60).contains(&every) && 60u32.is_multiple_of(every) {
        let minutes: Vec<u32> = (hash % every..60).step_by(every as usize).collect();
        let field = if every == 1 {
            "*".into()
        } else {
            list(&minutes)
        };
        return Ok(Timing {
            cron: format!("{field} * * * *"),
            times: Some(Times {
                minutes,
                hours: None,
            }),
        });
    }
    if every > 0 && every.is_multiple_of(60) && 1440u32.is_multiple_of(every) {
        let step = every / 60;
        let minute = hash % 60;
        let hours: Vec<u32> = ((hash / 60) % step..24).step_by(step as usize).collect();
        return Ok(Timing {
            cron: format!("{minute} {} * * *", list(&hours)),
            times: Some(Times {
                minutes: vec![minute],
                hours: Some(hours),
            }),
        });
    }
    bail!(
        "--every {every}: use a divisor of 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60) or a \
         multiple of 60 that divides 1440 (120, 180, 240, 360, 480, 720, 1440), or --schedule"
    )
}

fn parse_schedule(expression: &str) -> Result<Timing> {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    match fields.as_slice() {
        [one] => {
            let times = match *one {
                "@hourly" => Some((vec![0], None)),
                "@daily" | "@midnight" => Some((vec![0], Some(vec![0]))),
                "@weekly" | "@monthly" | "@yearly" | "@annually" => None,
                _ => bail!(
                    "--schedule '{expression}' is not a cron schedule (five fields, or \
                     @hourly, @daily, ...)"
                ),
            };
            Ok(Timing {
                cron: (*one).to_owned(),
                times: times.map(|(minutes, hours)| Times { minutes, hours }),
            })
        }
        [minute, hour, day, month, weekday] => {
            for field in &fields {
                if !field
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "*/,-".contains(c))
                {
                    bail!("--schedule '{expression}': field '{field}' is not a cron field");
                }
            }
            let times = if [*day, *month, *weekday] == ["*", "*", "*"] {
                match (expand(minute, 0, 59), expand(hour, 0, 23)) {
                    (Some(minutes), Some(hours)) => Some(Times {
                        minutes,
                        hours: (hours.len() < 24).then_some(hours),
                    }),
                    _ => None,
                }
            } else {
                None
            };
            Ok(Timing {
                cron: fields.join(" "),
                times,
            })
        }
        _ => {
            bail!("--schedule '{expression}' must have five fields (minute hour day month weekday)")
        }
    }
}

/// A cron minute or hour field (`*`, `5`, `1-4`, `*/15`, `3/20`, lists of them) as its
/// values, ascending; `None` when it is not understood or out of `lo..=hi`.
fn expand(field: &str, lo: u32, hi: u32) -> Option<Vec<u32>> {
    let mut seen = vec![false; (hi + 1) as usize];
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, Some(step.parse::<u32>().ok().filter(|s| *s >= 1)?)),
            None => (part, None),
        };
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (a.parse().ok()?, b.parse().ok()?)
        } else {
            let a: u32 = range.parse().ok()?;
            (a, if step.is_some() { hi } else { a })
        };
        if a < lo || b > hi || a > b {
            return None;
        }
        for v in (a..=b).step_by(step.unwrap_or(1) as usize) {
            seen[v as usize] = true;
        }
    }
    Some((lo..=hi).filter(|v| seen[*v as usize]).collect())
}

/// POSIX `cksum`'s CRC of `bytes`: the number the shell script spread the fleet by, kept so
/// that a machine keeps its minute when its job moves from the script to the binary.
pub fn cksum(bytes: &[u8]) -> u32 {
    let table: Vec<u32> = (0..256u32)
        .map(|i| {
            let mut c = i << 24;
            for _ in 0..8 {
                c = if c & 0x8000_0000 != 0 {
                    (c << 1) ^ 0x04C1_1DB7
                } else {
                    c << 1
                };
            }
            c
        })
        .collect();
    let mut crc = 0u32;
    let mut step = |byte: u8| crc = (crc << 8) ^ table[(((crc >> 24) as u8) ^ byte) as usize];
    for byte in bytes {
        step(*byte);
    }
    let mut length = bytes.len();
    while length > 0 {
        step((length & 0xff) as u8);
        length >>= 8;
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cksum_matches_posix() {
        // `printf '' | cksum` and `printf 123456789 | cksum`.
        assert_eq!(cksum(b""), 4_294_967_295);
        assert_eq!(cksum(b"123456789"), 930_766_865);
    }

    #[test]
    fn hourly_is_one_minute_spread_by_name() {
        let t = timing(None, None, "laptop").unwrap();
        let minute = cksum(b"laptop") % 60;
        assert_eq!(t.cron, format!("{minute} * * * *"));
        assert_eq!(t.times.unwrap().calendar(), format!("*-*-* *:{minute}:00"));
    }

    #[test]
    fn every_quarter_hour_and_every_six_hours() {
        let hash = cksum(b"m");
        let t = timing(Some(15), None, "m").unwrap();
        let o = hash % 15;
        assert_eq!(
            t.cron,
            format!("{o},{},{},{} * * * *", o + 15, o + 30, o + 45)
        );
        let t = timing(Some(360), None, "m").unwrap();
        let times = t.times.unwrap();
        assert_eq!(times.minutes, vec![hash % 60]);
        assert_eq!(times.hours.unwrap().len(), 4);
        assert_eq!(timing(Some(1), None, "m").unwrap().cron, "* * * * *");
    }

    #[test]
    fn bad_timings_are_refused() {
        assert!(timing(Some(7), None, "m").is_err());
        assert!(timing(Some(0), None, "m").is_err());
        assert!(timing(None, Some("0 * *"), "m").is_err());
        assert!(timing(None, Some("0 * * * $(x)"), "m").is_err());
        assert!(timing(None, Some("@often"), "m").is_err());
    }

    #[test]
    fn a_given_schedule_is_kept_and_expanded_where_simple() {
        let t = timing(None, Some("7  */2 * * *"), "m").unwrap();
        assert_eq!(t.cron, "7 */2 * * *");
        let times = t.times.unwrap();
        assert_eq!(times.minutes, vec![7]);
        assert_eq!(
            times.calendar(),
            "*-*-* 0,2,4,6,8,10,12,14,16,18,20,22:7:00"
        );
        assert_eq!(timing(None, Some("0 9 * * 1"), "m").unwrap().times, None);
        assert_eq!(timing(None, Some("61 * * * *"), "m").unwrap().times, None);
    }
}
