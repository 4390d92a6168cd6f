//! Argo Rollouts' replica arithmetic for a canary without traffic routing (a "basic"
//! canary, whose weight is approximated by pod counts): the closest (canary, stable)
//! counts to a weight (`CalculateReplicaCountsForBasicCanary`), the next ReplicaSet
//! sizes within `maxSurge` and `maxUnavailable`, and `adjustReplicaWithinLimits`.
//! Pure functions of counts; `canary.rs` applies them.

/// The closest (canary, stable) pod counts to `weight` out of `replicas`, allowing
/// one extra pod when surge is allowed — Argo's replica approximation of a weight.
/// Ties between rounding up and down go to the larger canary.
pub fn approximate_counts(replicas: u32, weight: u32, surge: u32) -> (u32, u32) {
    if replicas == 0 {
        return (0, 0);
    }
    let prod = replicas * weight;
    let ceil = prod.div_ceil(100);
    let floor = prod / 100;
    let tied = |total: u32| (total * weight) % 100 == 50;
    // A weight strictly between 0 and 100 never rounds to zero canary pods, unless
    // there is a single pod and no room to surge.
    let zero_allowed = weight == 100 || weight == 0 || (replicas == 1 && surge == 0);
    let mut options: [(u32, u32); 4] = [(0, 0); 4];
    let mut n = 0;
    let mut push = |o: (u32, u32)| {
        options[n] = o;
        n += 1;
    };
    if ceil < replicas || zero_allowed {
        push((ceil, replicas));
    }
    if !tied(replicas) && (floor != 0 || zero_allowed) {
        push((floor, replicas));
    }
    if surge > 0 {
        push((ceil, replicas + 1));
        if !tied(replicas + 1) && (floor != 0 || zero_allowed) {
            push((floor, replicas + 1));
        }
    }
    if n == 0 {
        return (0, replicas);
    }
    // |100·c/t − w| compared exactly as a fraction: num / t.
    let delta = |(c, t): (u32, u32)| ((c * 100) as i64 - (weight * t) as i64).unsigned_abs();
    let mut best = options[0];
    for &o in &options[1..n] {
        // delta(o)/o.t < delta(best)/best.t; a tie keeps the earlier option.
        if delta(o) * (best.1 as u64) < delta(best) * (o.1 as u64) {
            best = o;
        }
    }
    (best.0, best.1 - best.0)
}

/// One ReplicaSet as the basic-canary calculation sees it.
#[derive(Clone, Copy, Debug)]
pub struct RsView {
    pub spec: u32,
    pub available: u32,
}

impl RsView {
    /// Pods the calculation may count on when scaling down (Argo's
    /// `GetReplicasForScaleDown`): spec if it is already below availability or if
    /// availability is ignored, else the available pods.
    fn for_scale_down(self, ignore_availability: bool) -> i64 {
        if self.spec < self.available || ignore_availability {
            self.spec as i64
        } else {
            self.available as i64
        }
    }
}

/// Bounds of a basic canary.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub replicas: u32,
    pub surge: u32,
    pub unavail: u32,
}

/// Next (canary, stable) ReplicaSet sizes of a basic (pod-count) canary at `weight`:
/// towards the approximated counts, growing within the surge (the stable set first)
/// and shrinking within the unavailability budget.
pub fn basic_canary_counts(l: Limits, weight: u32, new: RsView, stable: RsView) -> (u32, u32) {
    let (want_new, want_stable) = approximate_counts(l.replicas, weight, l.surge);
    let (want_new, want_stable) = (want_new as i64, want_stable as i64);
    let mut new_n = new.spec as i64;
    let mut stable_n = stable.spec as i64;
    let max_total = (l.replicas + l.surge) as i64;
    let mut up = max_total - new_n - stable_n;
    if stable_n < want_stable && up > 0 {
        if stable_n + up < want_stable {
            stable_n += up;
            up = 0;
        } else {
            up -= want_stable - stable_n;
            stable_n = want_stable;
        }
    }
    if new_n < want_new && up > 0 {
        new_n = (new_n + up).min(want_new);
    }
    let min_available = l.replicas as i64 - l.unavail.min(l.replicas) as i64;
    // Growing the canary ignores the stable set's availability; shrinking it
    // (abort) ignores the canary's.
    let increasing = want_new >= new.spec as i64;
    let can_down = new.for_scale_down(!increasing) + stable.for_scale_down(increasing);
    if can_down <= min_available {
        return (new_n as u32, stable_n as u32);
    }
    let down = can_down - min_available;
    let drain_to = |rs: RsView, want: i64, cur: i64| {
        if rs.spec as i64 > want {
            want.max(rs.spec as i64 - down)
        } else {
            cur
        }
    };
    if increasing {
        stable_n = drain_to(stable, want_stable, stable_n);
        let (s, n) = within_limits(stable, new, stable_n, new_n, max_total, min_available);
        (n as u32, s as u32)
    } else {
        new_n = drain_to(new, want_new, new_n);
        let (n, s) = within_limits(new, stable, new_n, stable_n, max_total, min_available);
        (n as u32, s as u32)
    }
}

/// Argo's `adjustReplicaWithinLimits`: trims the set being kept (`adjust`) back under
/// the surge, gives back what that would cost in availability, and takes any excess
/// from the set being drained.
fn within_limits(
    drain: RsView,
    adjust: RsView,
    mut drain_n: i64,
    mut adjust_n: i64,
    max_total: i64,
    min_available: i64,
) -> (i64, i64) {
    let over = (adjust_n + drain_n - max_total).max(0);
    let mut available = (drain.available as i64).min(drain_n);
    adjust_n -= over;
    available += (adjust.available as i64).min(adjust_n);
    let lost = (adjust.available as i64 - adjust_n).max(0);
    let missing = (min_available - available).max(0);
    adjust_n += lost.min(missing);
    drain_n -= (adjust_n + drain_n - max_total).max(0);
    (drain_n, adjust_n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One reconcile from (0 canary, `replicas` stable, all stable available):
    /// (replicas, weight, surge, unavailable) -> (canary, stable) ReplicaSet sizes.
    /// Expected values are worked out by hand from Argo's rules: the canary grows
    /// within the surge, the stable set shrinks within the unavailability.
    #[test]
    fn basic_canary_first_reconcile() {
        let check = |(r, w, surge, unavail): (u32, u32, u32, u32), want: (u32, u32)| {
            let l = Limits {
                replicas: r,
                surge,
                unavail,
            };
            let new = RsView {
                spec: 0,
                available: 0,
            };
            let stable = RsView {
                spec: r,
                available: r,
            };
            assert_eq!(
                basic_canary_counts(l, w, new, stable),
                want,
                "replicas {r} weight {w} surge {surge} unavailable {unavail}"
            );
        };
        // Target 1+9: one surge pod for the canary, one stable pod may go.
        check((10, 10, 1, 1), (1, 9));
        // No unavailability: only the surge moves.
        check((10, 30, 3, 0), (3, 10));
        // No surge: the stable set shrinks to its target first, the canary waits.
        check((10, 30, 0, 5), (0, 7));
        // Target 4+6 (weight 41): 3 surge pods, then 2 stable pods may go.
        check((10, 41, 3, 2), (3, 8));
        // Target 1+1 (one surge pod): nothing may go.
        check((1, 5, 1, 0), (1, 1));
    }

    /// The approximation of a weight by pod counts; the expected values are the
    /// closest ratio by hand (the canary first on a tie, one surge pod allowed).
    #[test]
    fn approximation_table() {
        let table = [
            // (replicas, weight, surge) -> (canary, stable)
            ((1, 49, 0), (0, 1)),
            ((1, 50, 0), (1, 0)),
            ((1, 1, 1), (1, 1)),
            ((2, 1, 0), (1, 1)),
            ((2, 1, 1), (1, 2)),
            ((2, 99, 1), (2, 1)),
            ((3, 49, 1), (2, 2)),
            ((10, 5, 1), (1, 10)),
            ((10, 15, 0), (2, 8)),
            ((10, 18, 1), (2, 9)),
            ((10, 24, 1), (3, 8)),
            ((10, 99, 1), (10, 1)),
            ((10, 100, 1), (10, 0)),
        ];
        for ((r, w, surge), want) in table {
            assert_eq!(approximate_counts(r, w, surge), want, "{r} {w} {surge}");
        }
    }

    #[test]
    fn approximation_picks_the_closest_ratio() {
        // 4/10 = 40% beats 5/10 = 50% and 5/11 = 45.5%.
        assert_eq!(approximate_counts(10, 41, 3), (4, 6));
        // A tie (1.5 pods) rounds up; with surge 2/4 = 50% is exact.
        assert_eq!(approximate_counts(3, 50, 0), (2, 1));
        assert_eq!(approximate_counts(3, 50, 1), (2, 2));
        // A small weight never rounds to zero canary pods.
        assert_eq!(approximate_counts(10, 1, 0), (1, 9));
        assert_eq!(approximate_counts(10, 0, 3), (0, 10));
        assert_eq!(approximate_counts(10, 100, 3), (10, 0));
    }
}
