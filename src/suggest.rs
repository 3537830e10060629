//! "Did you mean …?" for a mistyped name (a setting in the settings file, a query name).
//!
//! strsim (already under clap, which uses it for its own suggestions) gives the optimal string
//! alignment distance: Levenshtein with an adjacent swap counted as one edit, so `CH_HSOT`
//! finds `CH_HOST` and `fleet_total` finds `fleet_totals`.

/// The known name nearest to `typed` (letter case ignored), when it is close enough to be a
/// typo: at most 2 edits, 3 for names longer than 10 characters.
pub fn nearest<'a>(typed: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = if typed.chars().count() > 10 { 3 } else { 2 };
    let typed = typed.to_lowercase();
    known
        .into_iter()
        .map(|name| (strsim::osa_distance(&typed, &name.to_lowercase()), name))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn a_typo_finds_the_name_meant_and_a_stranger_finds_none() {
        let settings = ["CH_HOST", "CH_PASSWORD", "CH_USER", "CH_PORT"];
        assert_eq!(nearest("CH_HSOT", settings), Some("CH_HOST"));
        assert_eq!(nearest("CH_PASWORD", settings), Some("CH_PASSWORD"));
        assert_eq!(nearest("ch_user", settings), Some("CH_USER"));
        assert_eq!(nearest("NODE_OPTIONS", settings), None);
        let queries = ["fleet_totals", "totals", "daily", "fleet_daily"];
        assert_eq!(nearest("fleet_total", queries), Some("fleet_totals"));
        assert_eq!(nearest("dialy", queries), Some("daily"));
        assert_eq!(nearest("weather", queries), None);
    }
}
