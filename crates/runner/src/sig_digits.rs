//! Numbers to a few significant digits, as C's and Python's `%g` writes them: fixed notation
//! for exponents from −4 up to the digits asked, scientific notation beyond, trailing zeros
//! dropped. The analysis tables were first written by Python scripts with `:.3g`; this keeps
//! their cells, and `results/README.md`'s copies of them, digit for digit. Messages print their
//! numbers with it too (a learning rate to four digits, not seventeen).

/// `x` to `digits` significant digits (at least 1), as `%.{digits}g` writes it: `2.12`,
/// `0.0702`, `3.79e+04`, `1.12e-05`, `12`, `inf`.
pub(crate) fn sig(x: f64, digits: usize) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let digits = digits.max(1);
    // The exponent after rounding to `digits` digits decides the notation.
    let scientific = format!("{:.*e}", digits - 1, x);
    let (mantissa, exponent) = scientific.split_once('e').expect("{:e} writes an exponent");
    let exponent: i32 = exponent.parse().expect("{:e} writes an integer exponent");
    if exponent < -4 || exponent >= digits as i32 {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim_zeros(mantissa), exponent.abs())
    } else {
        let decimals = (digits as i32 - 1 - exponent) as usize;
        trim_zeros(&format!("{x:.decimals$}")).to_string()
    }
}

/// `%g` with its default six digits: how the scripts wrote thresholds (`0.01`, `-10`, `inf`).
pub(crate) fn g(x: f64) -> String {
    sig(x, 6)
}

/// Drops the trailing zeros of a decimal fraction, and its point when nothing is left after it.
fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cells of the tables `results/README.md` quotes, as Python's `:.3g` wrote them.
    #[test]
    fn three_digits_as_python_writes_them() {
        for (x, want) in [
            (2.12, "2.12"),
            (0.0702, "0.0702"),
            (0.12, "0.12"),
            (12.0, "12"),
            (37_900.0, "3.79e+04"),
            (1.12e-5, "1.12e-05"),
            (5.87e-12, "5.87e-12"),
            (0.00377, "0.00377"),
            (0.0019, "0.0019"),
            (445.0, "445"),
            (999.6, "1e+03"),
            (0.099_96, "0.1"),
            (-4.281, "-4.28"),
        ] {
            assert_eq!(sig(x, 3), want, "{x}");
        }
    }

    #[test]
    fn default_digits_thresholds_and_specials() {
        assert_eq!(g(0.01), "0.01");
        assert_eq!(g(-10.0), "-10");
        assert_eq!(g(1.0), "1");
        assert_eq!(g(f64::INFINITY), "inf");
        assert_eq!(g(0.0), "0");
        assert_eq!(sig(f64::NAN, 3), "nan");
    }
}
