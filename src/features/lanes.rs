//! Reductions over `f32` slices in eight independent lanes, combined in a fixed order.
//!
//! A plain `iter().sum()` is one long chain of dependent additions that the compiler may not
//! reorder (floating-point addition is not associative), so it runs at one add per 3-4 cycles and
//! is never vectorised. Summing into eight lanes (element `i` into lane `i % 8`) and folding the
//! lanes in a fixed tree lets the compiler use SIMD registers, while the result stays a pure
//! function of the input: the same on every machine, thread count and block size. It differs
//! from the sequential sum only by rounding (float noise).

/// Number of independent accumulators.
pub const LANES: usize = 8;

/// The larger of `a` and `b` for non-NaN values: a single `maxss`/`maxps` (`f32::max` also
/// handles NaN, which costs extra instructions on a dependency chain).
#[inline(always)]
pub fn max(a: f32, b: f32) -> f32 {
    if a > b { a } else { b }
}

/// The smaller of `a` and `b` for non-NaN values (see [`max`]).
#[inline(always)]
pub fn min(a: f32, b: f32) -> f32 {
    if a < b { a } else { b }
}

/// Folds the lanes in a fixed pairwise order.
#[inline(always)]
pub fn fold(a: [f32; LANES]) -> f32 {
    ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
}

/// The tail of a slice split into lane groups (`len < LANES`), padded with `pad` to a whole group.
///
/// Reductions run the tail through the same lane code as the whole groups, with a padding value
/// that leaves every lane as it was (0 for sums, the identity for min / max): an accumulator
/// indexed by a run-time position would have to live in memory, and its store and reload cost
/// more than a short reduction itself.
#[inline(always)]
pub fn padded(rest: &[f32], pad: f32) -> [f32; LANES] {
    std::array::from_fn(|j| rest.get(j).copied().unwrap_or(pad))
}

/// Sum of `v`.
#[inline(always)]
pub fn sum(v: &[f32]) -> f32 {
    let (chunks, rest) = v.as_chunks::<LANES>();
    let mut acc = [0.0f32; LANES];
    for c in chunks {
        for j in 0..LANES {
            acc[j] += c[j];
        }
    }
    if !rest.is_empty() {
        let t = padded(rest, 0.0);
        for j in 0..LANES {
            acc[j] += t[j];
        }
    }
    fold(acc)
}

/// Sum of squares of `v`.
#[inline(always)]
pub fn sum_sq(v: &[f32]) -> f32 {
    dot(v, v)
}

/// Dot product of the common prefix of `a` and `b`.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (ca, ra) = a[..n].as_chunks::<LANES>();
    let (cb, rb) = b[..n].as_chunks::<LANES>();
    let mut acc = [0.0f32; LANES];
    for (x, y) in ca.iter().zip(cb) {
        for j in 0..LANES {
            acc[j] += x[j] * y[j];
        }
    }
    if !ra.is_empty() {
        let (x, y) = (padded(ra, 0.0), padded(rb, 0.0));
        for j in 0..LANES {
            acc[j] += x[j] * y[j];
        }
    }
    fold(acc)
}

/// `(sum(a), dot(a, b))` in one pass when `a` and `b` have the same length: each result is
/// accumulated exactly as by [`sum`] and [`dot`], in two independent sets of lanes.
#[inline(always)]
pub fn sum_and_dot(a: &[f32], b: &[f32]) -> (f32, f32) {
    if a.len() != b.len() {
        return (sum(a), dot(a, b));
    }
    let (ca, ra) = a.as_chunks::<LANES>();
    let (cb, rb) = b.as_chunks::<LANES>();
    let mut s = [0.0f32; LANES];
    let mut d = [0.0f32; LANES];
    for (x, y) in ca.iter().zip(cb) {
        for j in 0..LANES {
            s[j] += x[j];
            d[j] += x[j] * y[j];
        }
    }
    if !ra.is_empty() {
        let (x, y) = (padded(ra, 0.0), padded(rb, 0.0));
        for j in 0..LANES {
            s[j] += x[j];
            d[j] += x[j] * y[j];
        }
    }
    (fold(s), fold(d))
}

/// Largest value of `v`, at least 0 (for non-negative data such as power spectra).
#[inline(always)]
pub fn max_or_zero(v: &[f32]) -> f32 {
    let (chunks, rest) = v.as_chunks::<LANES>();
    let mut acc = [0.0f32; LANES];
    for c in chunks.iter().chain(Some(&padded(rest, 0.0))) {
        for j in 0..LANES {
            acc[j] = max(acc[j], c[j]);
        }
    }
    acc.iter().fold(0.0f32, |m, &x| max(m, x))
}

/// Smallest and largest value of `v` (`(inf, -inf)` when empty).
#[inline(always)]
pub fn min_max(v: &[f32]) -> (f32, f32) {
    let (chunks, rest) = v.as_chunks::<LANES>();
    let mut lo = [f32::INFINITY; LANES];
    let mut hi = [f32::NEG_INFINITY; LANES];
    for c in chunks {
        for j in 0..LANES {
            lo[j] = min(lo[j], c[j]);
            hi[j] = max(hi[j], c[j]);
        }
    }
    if !rest.is_empty() {
        let (l, h) = (padded(rest, f32::INFINITY), padded(rest, f32::NEG_INFINITY));
        for j in 0..LANES {
            lo[j] = min(lo[j], l[j]);
            hi[j] = max(hi[j], h[j]);
        }
    }
    (
        lo.iter().fold(f32::INFINITY, |m, &x| min(m, x)),
        hi.iter().fold(f32::NEG_INFINITY, |m, &x| max(m, x)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reductions_agree_with_exact_sums() {
        // Small integers: every partial sum is exact, so any order gives the same value.
        for n in [0usize, 1, 7, 8, 9, 63, 513] {
            let v: Vec<f32> = (0..n).map(|i| ((i * 37) % 11) as f32 - 5.0).collect();
            let w: Vec<f32> = (0..n).map(|i| ((i * 13) % 7) as f32).collect();
            assert_eq!(sum(&v), v.iter().sum::<f32>(), "sum n = {n}");
            assert_eq!(
                dot(&v, &w),
                v.iter().zip(&w).map(|(a, b)| a * b).sum::<f32>(),
                "dot n = {n}"
            );
            assert_eq!(sum_sq(&v), v.iter().map(|a| a * a).sum::<f32>());
            assert_eq!(sum_and_dot(&v, &w), (sum(&v), dot(&v, &w)));
            assert_eq!(max_or_zero(&w), w.iter().fold(0.0f32, |m, &x| m.max(x)));
            if n > 0 {
                let lo = v.iter().fold(f32::INFINITY, |m, &x| m.min(x));
                let hi = v.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
                assert_eq!(min_max(&v), (lo, hi), "min_max n = {n}");
            }
        }
    }
}
