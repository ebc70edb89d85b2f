//! The locales, currencies and time zones the formatting functions know (`format_number`,
//! `format_money`, `format_date`). Locale conventions follow CLDR; a small table instead of
//! ICU, because these few cover the agents people write.

use jiff::tz::{TimeZone, TimeZoneDatabase};
use std::sync::OnceLock;

/// How a locale writes numbers and amounts of money.
#[derive(Debug)]
pub struct Locale {
    pub name: &'static str,
    /// Between groups of digits: U+202F (narrow no-break space) in French, as in CLDR.
    pub group: &'static str,
    pub decimal: &'static str,
    /// Size of the groups after the first (rightmost) group of three: 2 in India's lakh
    /// and crore grouping (`12,34,567`), 3 elsewhere.
    pub later_groups: usize,
    /// Digits the integer part needs beyond the first group before it is grouped at all:
    /// Spanish writes `9264` but `19.264` (CLDR's minimum grouping digits, 2).
    pub min_grouping: usize,
    /// An amount of money: `¤` the currency's symbol, `#` the number, `-` where a minus
    /// sign goes (dropped for amounts that are not negative); the rest is literal (U+00A0,
    /// a no-break space, as in CLDR).
    pub money: &'static str,
}

/// A currency: its symbol (the same in every locale) and how many decimals it is written
/// with.
#[derive(Debug)]
pub struct Currency {
    pub code: &'static str,
    pub symbol: &'static str,
    pub decimals: usize,
}

macro_rules! locales {
    ($($name:literal: $group:literal $decimal:literal $later:literal $min:literal $money:literal;)*) => {
        /// The names `format_number` and `format_money` accept, as `Ty::Word`s.
        pub const LOCALE_NAMES: &[&str] = &[$($name),*];
        pub const LOCALES: &[Locale] = &[$(Locale {
            name: $name,
            group: $group,
            decimal: $decimal,
            later_groups: $later,
            min_grouping: $min,
            money: $money,
        }),*];
    };
}

macro_rules! currencies {
    ($($code:literal: $symbol:literal $decimals:literal;)*) => {
        /// The ISO 4217 codes `format_money` accepts, as `Ty::Word`s.
        pub const CURRENCY_CODES: &[&str] = &[$($code),*];
        pub const CURRENCIES: &[Currency] = &[$(Currency {
            code: $code,
            symbol: $symbol,
            decimals: $decimals,
        }),*];
    };
}

locales! {
    "en-US": "," "." 3 1 "-¤#";
    "en-GB": "," "." 3 1 "-¤#";
    "en-IN": "," "." 2 1 "-¤#";
    "de-DE": "." "," 3 1 "-#\u{a0}¤";
    "fr-FR": "\u{202f}" "," 3 1 "-#\u{a0}¤";
    "es-ES": "." "," 3 2 "-#\u{a0}¤";
    "it-IT": "." "," 3 1 "-#\u{a0}¤";
    "nl-NL": "." "," 3 1 "¤\u{a0}-#";
    "pt-BR": "." "," 3 1 "-¤\u{a0}#";
    "ja-JP": "," "." 3 1 "-¤#";
}

currencies! {
    "USD": "$" 2;
    "EUR": "€" 2;
    "GBP": "£" 2;
    "JPY": "¥" 0;
    "INR": "₹" 2;
    "BRL": "R$" 2;
    "CHF": "CHF" 2;
    "CAD": "CA$" 2;
    "AUD": "A$" 2;
    "MXN": "MX$" 2;
    "CNY": "CN¥" 2;
    "KRW": "₩" 0;
}

pub fn locale(name: &str) -> Option<&'static Locale> {
    LOCALES.iter().find(|l| l.name == name)
}

pub fn currency(code: &str) -> Option<&'static Currency> {
    CURRENCIES.iter().find(|c| c.code == code)
}

/// The language tags a per-language text may be written in (`text: { en: "…", fr: "…" }`):
/// each locale (`fr-FR`) and its language alone (`fr`).
pub fn language_tags() -> impl Iterator<Item = &'static str> {
    let languages = LOCALE_NAMES.iter().map(|l| primary(l));
    let mut tags: Vec<&'static str> = languages.chain(LOCALE_NAMES.iter().copied()).collect();
    tags.sort_unstable();
    tags.dedup();
    tags.into_iter()
}

pub fn language_tag_known(tag: &str) -> bool {
    language_tags().any(|known| known.eq_ignore_ascii_case(tag))
}

/// Which of `tags` suits a conversation in `wanted`: the same tag, else one of the same
/// language (`fr-CA` takes `fr`, `fr` takes `fr-FR`). Tags compare ignoring case.
pub fn pick_language<'t>(
    mut tags: impl Iterator<Item = &'t str> + Clone,
    wanted: &str,
) -> Option<usize> {
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    tags.clone()
        .position(|tag| same(tag, wanted))
        .or_else(|| tags.position(|tag| same(primary(tag), primary(wanted))))
}

/// The language of a tag: `fr` of `fr-CA`.
fn primary(tag: &str) -> &str {
    tag.split(['-', '_']).next().unwrap_or(tag)
}

/// The IANA time zone database bundled into the binary, so that a program formats dates
/// the same on every machine, whatever its `/usr/share/zoneinfo` holds.
pub fn time_zones() -> &'static TimeZoneDatabase {
    static DB: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
}

/// An IANA time zone by name (`Europe/Paris`, `UTC`).
pub fn time_zone(name: &str) -> Option<TimeZone> {
    time_zones().get(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_database_knows_the_usual_zones() {
        for name in ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"] {
            assert!(time_zone(name).is_some(), "{name}");
        }
        assert!(time_zone("Mars/Olympus_Mons").is_none());
    }

    #[test]
    fn a_language_is_picked_by_tag_then_by_language() {
        let tags = ["en", "fr", "pt-BR"];
        let pick = |wanted| pick_language(tags.iter().copied(), wanted);
        assert_eq!(pick("fr"), Some(1));
        assert_eq!(pick("FR"), Some(1));
        assert_eq!(pick("fr-CA"), Some(1));
        assert_eq!(pick("pt"), Some(2));
        assert_eq!(pick("de"), None);
        assert!(language_tag_known("fr") && language_tag_known("fr-FR"));
        assert!(!language_tag_known("xx") && !language_tag_known("fr-XX"));
    }
}
