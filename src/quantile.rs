//! Nearest-rank quantiles: the one definition the features and detectors share.
//!
//! The `q`-quantile of `n` values is the value at rank `round((n - 1) * q)` in ascending order, with
//! `q` clamped to 0..=1. There is no interpolation, so a floor or a bed level is always a level that
//! was measured, and a quantile of a few values does not invent one between them.

/// Rank (0-based, ascending) of the `q`-quantile among `len` values (0 when there are none; the
/// callers below return `None` for empty input before indexing).
fn rank(len: usize, q: f64) -> usize {
    (len.saturating_sub(1) as f64 * q.clamp(0.0, 1.0)).round() as usize
}

/// The `q`-quantile of values already sorted ascending; `None` when there are none.
pub fn of_sorted<T: Copy>(sorted: &[T], q: f64) -> Option<T> {
    (!sorted.is_empty()).then(|| sorted[rank(sorted.len(), q)])
}

/// The `q`-quantile of `values`, found in place (reorders them, allocates nothing); `None` when
/// there are none. NaN sorts above every number (`f32::total_cmp`).
pub fn select(values: &mut [f32], q: f64) -> Option<f32> {
    if values.is_empty() {
        return None;
    }
    let k = rank(values.len(), q);
    Some(*values.select_nth_unstable_by(k, f32::total_cmp).1)
}

/// The `q`-quantile of `values`, leaving them as they are (works on a copy).
pub fn of(values: &[f32], q: f64) -> Option<f32> {
    select(&mut values.to_vec(), q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quantile_is_a_measured_value_at_the_nearest_rank() {
        let v = [5.0f32, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(of(&v, 0.0), Some(1.0));
        assert_eq!(of(&v, 0.5), Some(3.0));
        assert_eq!(of(&v, 1.0), Some(5.0));
        // Rank 0.3 * 4 = 1.2 rounds to 1: the second smallest, not an interpolated 2.2.
        assert_eq!(of(&v, 0.3), Some(2.0));
        // Halfway ranks round up: 0.625 * 4 = 2.5 -> 3.
        assert_eq!(of(&v, 0.625), Some(4.0));
    }

    #[test]
    fn out_of_range_q_is_clamped_and_empty_input_has_no_quantile() {
        let v = [2.0f32, 1.0];
        assert_eq!(of(&v, -1.0), Some(1.0));
        assert_eq!(of(&v, 7.0), Some(2.0));
        assert_eq!(of(&[], 0.5), None);
        assert_eq!(of_sorted::<f64>(&[], 0.5), None);
        assert_eq!(select(&mut [], 0.5), None);
    }

    #[test]
    fn sorted_selected_and_copied_readings_agree() {
        let mut x = 0x2545_f491_u32;
        let v: Vec<f32> = (0..101)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x % 1000) as f32 / 10.0
            })
            .collect();
        let mut sorted = v.clone();
        sorted.sort_by(f32::total_cmp);
        for q in [0.01, 0.1, 0.2, 0.5, 0.8, 0.9, 0.95, 0.99] {
            let want = of_sorted(&sorted, q);
            assert_eq!(of(&v, q), want, "q {q}");
            assert_eq!(select(&mut v.clone(), q), want, "q {q}");
        }
        // `of` leaves its input untouched.
        let before = v.clone();
        let _ = of(&v, 0.5);
        assert_eq!(v, before);
    }
}
