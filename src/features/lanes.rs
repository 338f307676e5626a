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

/// Sum of `v`.
#[inline(always)]
pub fn sum(v: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let mut chunks = v.chunks_exact(LANES);
    for c in &mut chunks {
        for j in 0..LANES {
            acc[j] += c[j];
        }
    }
    for (a, &x) in acc.iter_mut().zip(chunks.remainder()) {
        *a += x;
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
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for j in 0..LANES {
            acc[j] += x[j] * y[j];
        }
    }
    for ((s, &x), &y) in acc.iter_mut().zip(ca.remainder()).zip(cb.remainder()) {
        *s += x * y;
    }
    fold(acc)
}

/// Largest value of `v`, at least 0 (for non-negative data such as power spectra).
#[inline(always)]
pub fn max_or_zero(v: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let mut chunks = v.chunks_exact(LANES);
    for c in &mut chunks {
        for j in 0..LANES {
            acc[j] = max(acc[j], c[j]);
        }
    }
    for (a, &x) in acc.iter_mut().zip(chunks.remainder()) {
        *a = max(*a, x);
    }
    acc.iter().fold(0.0f32, |m, &x| max(m, x))
}

/// Smallest and largest value of `v` (`(inf, -inf)` when empty).
#[inline(always)]
pub fn min_max(v: &[f32]) -> (f32, f32) {
    let mut lo = [f32::INFINITY; LANES];
    let mut hi = [f32::NEG_INFINITY; LANES];
    let mut chunks = v.chunks_exact(LANES);
    for c in &mut chunks {
        for j in 0..LANES {
            lo[j] = min(lo[j], c[j]);
            hi[j] = max(hi[j], c[j]);
        }
    }
    for &x in chunks.remainder() {
        lo[0] = min(lo[0], x);
        hi[0] = max(hi[0], x);
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
            assert_eq!(max_or_zero(&w), w.iter().fold(0.0f32, |m, &x| m.max(x)));
            if n > 0 {
                let lo = v.iter().fold(f32::INFINITY, |m, &x| m.min(x));
                let hi = v.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
                assert_eq!(min_max(&v), (lo, hi), "min_max n = {n}");
            }
        }
    }
}
