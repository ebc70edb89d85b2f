//! Numbers and money written for people: `format_number` and `format_money`.

use super::eval::{err, EvalResult};
use crate::catalogue::locales::{self, Locale};
use crate::ir::readable;

/// The most decimals `format_number` writes: beyond 15 significant digits an `f64` holds
/// nothing a reader could use.
pub const MAX_DECIMALS: f64 = 15.0;

/// `x` with exactly `decimals` decimals, grouped as `locale` writes numbers; without a
/// locale, no grouping and a `.` (`9264.50`).
pub fn number(x: f64, decimals: f64, locale: Option<&str>) -> EvalResult<String> {
    if !(0.0..=MAX_DECIMALS).contains(&decimals) || decimals.fract() != 0.0 {
        return err(format!(
            "format_number(..): the decimals must be a whole number from 0 to {MAX_DECIMALS}, found {}",
            readable(decimals)
        ));
    }
    let digits = Digits::fixed(x, decimals as usize);
    let body = match locale {
        Some(name) => digits.written(find_locale(name)?),
        None => digits.plain(),
    };
    Ok(if digits.negative {
        format!("-{body}")
    } else {
        body
    })
}

/// `amount` in `currency`, as `locale` writes money: `$59.70`, `9 264,00 €`, `€ -5,00`.
pub fn money(amount: f64, currency: &str, locale: &str) -> EvalResult<String> {
    let Some(currency) = locales::currency(currency) else {
        return err(format!(
            "format_money(..): `{currency}` is not a currency agentc knows; use one of {}",
            locales::CURRENCY_CODES.join(", ")
        ));
    };
    let locale = find_locale(locale)?;
    let digits = Digits::fixed(amount, currency.decimals);
    let number = digits.written(locale);
    let mut out = String::new();
    for c in locale.money.chars() {
        match c {
            '¤' => out.push_str(currency.symbol),
            '#' => out.push_str(&number),
            '-' if digits.negative => out.push('-'),
            '-' => {}
            other => out.push(other),
        }
    }
    Ok(spaced(&out, currency.symbol))
}

fn find_locale(name: &str) -> EvalResult<&'static Locale> {
    locales::locale(name).map_or_else(
        || {
            err(format!(
                "`{name}` is not a locale agentc knows; use one of {}",
                locales::LOCALE_NAMES.join(", ")
            ))
        },
        Ok,
    )
}

/// CLDR's currency spacing: a symbol that ends (or starts) with a letter is kept apart
/// from the digits by a no-break space (`CHF 5.00`), a sign like `$` is not (`$5.00`).
fn spaced(text: &str, symbol: &str) -> String {
    let Some(at) = text.find(symbol) else {
        return text.to_string();
    };
    let (before, after) = (&text[..at], &text[at + symbol.len()..]);
    let letter_end = symbol.chars().last().is_some_and(char::is_alphabetic);
    let letter_start = symbol.chars().next().is_some_and(char::is_alphabetic);
    let digit_after = after
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '-');
    let digit_before = before.chars().last().is_some_and(|c| c.is_ascii_digit());
    let mut out = String::with_capacity(text.len() + 4);
    out.push_str(before);
    if letter_start && digit_before {
        out.push('\u{a0}');
    }
    out.push_str(symbol);
    if letter_end && digit_after {
        out.push('\u{a0}');
    }
    out.push_str(after);
    out
}

/// A number rounded to a fixed number of decimals, as decimal digits.
#[derive(Debug, PartialEq)]
struct Digits {
    negative: bool,
    integer: String,
    fraction: String,
}

impl Digits {
    /// Rounds half away from zero on the digits a reader sees (`2.675` → `2.68`), not on
    /// the binary value just below them.
    fn fixed(x: f64, decimals: usize) -> Digits {
        // Shortest scientific form of what `text(x)` shows: "d.ddde±N".
        let shown = format!("{:e}", readable(x.abs()));
        let (mantissa, exponent) = shown.split_once('e').unwrap_or((&shown, "0"));
        let exponent: i64 = exponent.parse().unwrap_or(0);
        let mut digits: Vec<u8> = mantissa
            .bytes()
            .filter(u8::is_ascii_digit)
            .map(|b| b - b'0')
            .collect();
        // Integer digits: at least one, with leading zeros for numbers below 1.
        let mut point = exponent + 1;
        if point < 1 {
            let zeros = (1 - point) as usize;
            digits.splice(0..0, std::iter::repeat_n(0, zeros));
            point = 1;
        }
        let mut point = point as usize;
        let keep = point + decimals;
        if digits.len() < keep + 1 {
            digits.resize(keep + 1, 0);
        }
        let round_up = digits[keep] >= 5;
        digits.truncate(keep);
        if round_up {
            let mut i = keep;
            loop {
                if i == 0 {
                    digits.insert(0, 1);
                    point += 1;
                    break;
                }
                i -= 1;
                if digits[i] == 9 {
                    digits[i] = 0;
                } else {
                    digits[i] += 1;
                    break;
                }
            }
        }
        let text = |d: &[u8]| d.iter().map(|d| char::from(b'0' + d)).collect::<String>();
        let integer = text(&digits[..point]);
        let integer = match integer.trim_start_matches('0') {
            "" => "0".to_string(),
            trimmed => trimmed.to_string(),
        };
        let zero = integer == "0" && digits[point..].iter().all(|d| *d == 0);
        Digits {
            negative: x < 0.0 && !zero,
            integer,
            fraction: text(&digits[point..]),
        }
    }

    fn plain(&self) -> String {
        self.joined(".", &self.integer)
    }

    /// Grouped and separated as `locale` writes numbers, without the sign.
    fn written(&self, locale: &Locale) -> String {
        self.joined(locale.decimal, &grouped(&self.integer, locale))
    }

    fn joined(&self, decimal: &str, integer: &str) -> String {
        if self.fraction.is_empty() {
            integer.to_string()
        } else {
            format!("{integer}{decimal}{}", self.fraction)
        }
    }
}

fn grouped(integer: &str, locale: &Locale) -> String {
    const FIRST_GROUP: usize = 3;
    if integer.len() < FIRST_GROUP + locale.min_grouping {
        return integer.to_string();
    }
    // Groups from the right: the first of three digits, then `later_groups` each.
    let mut groups = Vec::new();
    let mut end = integer.len();
    let mut size = FIRST_GROUP;
    while end > size {
        groups.push(&integer[end - size..end]);
        end -= size;
        size = locale.later_groups;
    }
    groups.push(&integer[..end]);
    groups.reverse();
    groups.join(locale.group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_written_as_each_locale_writes_it() {
        let cases = [
            (59.7, "USD", "en-US", "$59.70"),
            (9264.0, "GBP", "en-GB", "£9,264.00"),
            (9264.0, "EUR", "fr-FR", "9\u{202f}264,00\u{a0}€"),
            (9264.0, "EUR", "de-DE", "9.264,00\u{a0}€"),
            (9264.0, "EUR", "es-ES", "9264,00\u{a0}€"),
            (19264.0, "EUR", "es-ES", "19.264,00\u{a0}€"),
            (9264.0, "EUR", "it-IT", "9.264,00\u{a0}€"),
            (-5.0, "EUR", "nl-NL", "€\u{a0}-5,00"),
            (9264.5, "BRL", "pt-BR", "R$\u{a0}9.264,50"),
            (9264.4, "JPY", "ja-JP", "¥9,264"),
            (1234567.0, "INR", "en-IN", "₹12,34,567.00"),
            (-59.7, "USD", "en-US", "-$59.70"),
            (5.0, "CHF", "en-US", "CHF\u{a0}5.00"),
            (-0.001, "USD", "en-US", "$0.00"),
        ];
        for (amount, currency, locale, want) in cases {
            assert_eq!(money(amount, currency, locale).unwrap(), want, "{locale}");
        }
    }

    /// The table in docs/language.md.
    #[test]
    fn numbers_are_grouped_as_each_locale_writes_them() {
        let cases = [
            ("en-US", "-1,234,567.50"),
            ("en-GB", "-1,234,567.50"),
            ("en-IN", "-12,34,567.50"),
            ("de-DE", "-1.234.567,50"),
            ("fr-FR", "-1\u{202f}234\u{202f}567,50"),
            ("es-ES", "-1.234.567,50"),
            ("it-IT", "-1.234.567,50"),
            ("nl-NL", "-1.234.567,50"),
            ("pt-BR", "-1.234.567,50"),
            ("ja-JP", "-1,234,567.50"),
        ];
        for (locale, want) in cases {
            assert_eq!(number(-1234567.5, 2.0, Some(locale)).unwrap(), want);
        }
        assert_eq!(number(9264.0, 2.0, Some("es-ES")).unwrap(), "9264,00");
        assert_eq!(
            locales::LOCALES.len(),
            cases.len(),
            "every locale is in the docs"
        );
    }

    #[test]
    fn halves_round_away_from_zero_on_the_digits_shown() {
        assert_eq!(number(2.675, 2.0, None).unwrap(), "2.68");
        assert_eq!(number(1.005, 2.0, None).unwrap(), "1.01");
        assert_eq!(number(-2.5, 0.0, None).unwrap(), "-3");
        assert_eq!(number(9.995, 2.0, None).unwrap(), "10.00");
        assert_eq!(number(0.0004, 3.0, None).unwrap(), "0.000");
        assert_eq!(number(1e21, 0.0, Some("en-US")).unwrap().len(), 22 + 7);
        assert_eq!(
            number(1234.5, 1.0, Some("fr-FR")).unwrap(),
            "1\u{202f}234,5"
        );
    }

    #[test]
    fn unknown_locales_currencies_and_bad_decimals_are_errors() {
        let message = |r: EvalResult<String>| r.unwrap_err().0;
        assert!(message(money(1.0, "XYZ", "en-US")).contains("`XYZ` is not a currency"));
        assert!(message(money(1.0, "USD", "en-ZZ")).contains("`en-ZZ` is not a locale"));
        assert!(message(number(1.0, 2.5, None)).contains("whole number from 0 to 15"));
        assert!(message(number(1.0, 99.0, None)).contains("whole number from 0 to 15"));
    }
}
