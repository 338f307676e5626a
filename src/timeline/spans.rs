//! Set operations on lists of spans (union, intersection, difference, clipping), for the per-scene
//! figures. Inputs need not be sorted or disjoint; outputs are sorted and disjoint.

use super::Span;

/// Sorted, merged copy of `spans` (touching spans join; empty spans are dropped).
pub fn union(spans: &[Span]) -> Vec<Span> {
    let mut v: Vec<Span> = spans
        .iter()
        .filter(|s| s.end_s > s.start_s)
        .copied()
        .collect();
    v.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    let mut out: Vec<Span> = Vec::with_capacity(v.len());
    for s in v {
        match out.last_mut() {
            Some(last) if s.start_s <= last.end_s => last.end_s = last.end_s.max(s.end_s),
            _ => out.push(s),
        }
    }
    out
}

/// Where both `a` and `b` are.
pub fn intersect(a: &[Span], b: &[Span]) -> Vec<Span> {
    intersect_disjoint(&union(a), &union(b))
}

/// Two-pointer intersection of two sorted, disjoint lists.
fn intersect_disjoint(a: &[Span], b: &[Span]) -> Vec<Span> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let s = a[i].start_s.max(b[j].start_s);
        let e = a[i].end_s.min(b[j].end_s);
        if e > s {
            out.push(Span::new(s, e));
        }
        if a[i].end_s < b[j].end_s {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Where `a` is and `b` is not.
pub fn subtract(a: &[Span], b: &[Span]) -> Vec<Span> {
    let b = union(b);
    let mut out = Vec::new();
    for s in union(a) {
        let mut start = s.start_s;
        for cut in b
            .iter()
            .filter(|c| c.end_s > s.start_s && c.start_s < s.end_s)
        {
            if cut.start_s > start {
                out.push(Span::new(start, cut.start_s));
            }
            start = start.max(cut.end_s);
        }
        if s.end_s > start {
            out.push(Span::new(start, s.end_s));
        }
    }
    out
}

/// `spans` within `window`.
pub fn clip(spans: &[Span], window: Span) -> Vec<Span> {
    intersect(spans, &[window])
}

/// Each span widened by `by` seconds on both sides (narrowed when `by` is negative), merged.
pub fn dilate(spans: &[Span], by: f64) -> Vec<Span> {
    let v: Vec<Span> = spans
        .iter()
        .map(|s| Span::new(s.start_s - by, s.end_s + by))
        .collect();
    union(&v)
}

/// Total seconds covered (overlaps counted once; `0.0`, never `-0.0`, when empty).
pub fn total(spans: &[Span]) -> f64 {
    // Float `sum()` of nothing is -0.0, which prints as "-0.0 s".
    union(spans).iter().fold(0.0, |acc, s| acc + s.duration_s())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(a: f64, b: f64) -> Span {
        Span::new(a, b)
    }

    #[test]
    fn union_merges_overlapping_and_unsorted_spans() {
        assert_eq!(
            union(&[s(5.0, 7.0), s(0.0, 2.0), s(1.0, 3.0)]),
            vec![s(0.0, 3.0), s(5.0, 7.0)]
        );
    }

    #[test]
    fn total_counts_shared_time_once_and_is_never_negative_zero() {
        assert_eq!(total(&[s(0.0, 10.0), s(8.0, 12.0), s(20.0, 21.0)]), 13.0);
        assert!(
            total(&[]).is_sign_positive(),
            "an empty total must print as 0.0, not -0.0"
        );
    }

    #[test]
    fn subtract_cuts_holes() {
        assert_eq!(
            subtract(&[s(0.0, 10.0)], &[s(2.0, 3.0), s(5.0, 6.0), s(9.0, 12.0)]),
            vec![s(0.0, 2.0), s(3.0, 5.0), s(6.0, 9.0)]
        );
    }

    #[test]
    fn intersect_clip_and_total_agree() {
        let a = [s(0.0, 4.0), s(6.0, 10.0)];
        assert_eq!(clip(&a, s(3.0, 7.0)), vec![s(3.0, 4.0), s(6.0, 7.0)]);
        assert_eq!(total(&intersect(&a, &[s(2.0, 8.0)])), 4.0);
        assert_eq!(dilate(&[s(1.0, 2.0), s(3.0, 4.0)], 0.6), vec![s(0.4, 4.6)]);
        assert!(dilate(&[s(1.0, 1.5)], -0.3).is_empty());
    }
}
