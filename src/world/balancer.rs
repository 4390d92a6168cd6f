//! The load balancer: which endpoints it knows (after `endpoint_lag`) and how it picks
//! one for a request.
//!
//! Two routing modes: `Pooled` (one Kubernetes Service selecting every version's pods,
//! as a rolling update or a canary without a traffic router) and `Weighted` (a traffic
//! router or an active/preview service pair: the version is chosen first, by weight,
//! then an endpoint of that version). Owns no pod state beyond its endpoint lists.

use crate::scenario::Routing;

/// How the balancer splits traffic between the two versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every endpoint is equal, whatever its version.
    Pooled,
    /// Share `new_weight`/100 of requests (or users, when sticky) go to version 1.
    Weighted { new_weight: u32, sticky: bool },
}

#[derive(Clone, Debug)]
pub struct Balancer {
    routing: Routing,
    pub mode: Mode,
    /// Endpoints known to the balancer, per version.
    eps: [Vec<u32>; 2],
    rr: [usize; 2],
    rr_pooled: usize,
}

impl Balancer {
    pub fn new(routing: Routing, capacity: usize) -> Self {
        Balancer {
            routing,
            mode: Mode::Pooled,
            eps: [Vec::with_capacity(capacity), Vec::with_capacity(capacity)],
            rr: [0, 0],
            rr_pooled: 0,
        }
    }

    /// Adds `pod` of `version`; returns its position for later removal.
    pub fn add(&mut self, version: u8, pod: u32) -> u32 {
        let v = &mut self.eps[version as usize];
        v.push(pod);
        (v.len() - 1) as u32
    }

    /// Removes the endpoint at `pos`; returns the pod moved into that position, if any
    /// (its stored position must be updated by the caller).
    pub fn remove(&mut self, version: u8, pos: u32) -> Option<u32> {
        let v = &mut self.eps[version as usize];
        let pos = pos as usize;
        v.swap_remove(pos);
        v.get(pos).copied()
    }

    pub fn count(&self, version: u8) -> usize {
        self.eps[version as usize].len()
    }
    pub fn total(&self) -> usize {
        self.eps[0].len() + self.eps[1].len()
    }
    /// The endpoints of `version` the balancer knows.
    pub fn endpoints(&self, version: u8) -> &[u32] {
        &self.eps[version as usize]
    }

    /// The share (0–100) of traffic the balancer currently sends to version 1.
    pub fn new_share(&self) -> f64 {
        let (n0, n1) = (self.eps[0].len(), self.eps[1].len());
        match self.mode {
            _ if n0 + n1 == 0 => 0.0,
            Mode::Pooled => 100.0 * n1 as f64 / (n0 + n1) as f64,
            Mode::Weighted { new_weight, .. } => {
                if n1 == 0 {
                    0.0
                } else if n0 == 0 {
                    100.0
                } else {
                    new_weight as f64
                }
            }
        }
    }

    /// True when a request could currently reach either version.
    pub fn serving_both(&self) -> bool {
        let s = self.new_share();
        s > 0.0 && s < 100.0
    }

    /// Picks an endpoint. `u_route` is the request's routing uniform, `u_user` a uniform
    /// fixed per user (for sticky weights), `load(pod)` the outstanding requests of a pod.
    #[inline]
    pub fn pick(&mut self, u_route: f64, u_user: f64, load: impl Fn(u32) -> u32) -> Option<u32> {
        match self.mode {
            Mode::Pooled => {
                let n0 = self.eps[0].len();
                let n = n0 + self.eps[1].len();
                if n == 0 {
                    return None;
                }
                let i = match self.routing {
                    Routing::RoundRobin => {
                        self.rr_pooled = (self.rr_pooled + 1) % n;
                        self.rr_pooled
                    }
                    Routing::Random => ((u_route * n as f64) as usize).min(n - 1),
                    Routing::LeastOutstanding => {
                        return self.least(&load, None);
                    }
                };
                Some(if i < n0 {
                    self.eps[0][i]
                } else {
                    self.eps[1][i - n0]
                })
            }
            Mode::Weighted { new_weight, sticky } => {
                let u = if sticky { u_user } else { u_route };
                let want_new = u * 100.0 < new_weight as f64;
                let mut v = want_new as usize;
                if self.eps[v].is_empty() {
                    v = 1 - v;
                }
                let n = self.eps[v].len();
                if n == 0 {
                    return None;
                }
                // Reuse the uniform for the endpoint choice within the version, rescaled
                // to the part of [0, 1) that selected this version.
                let i = match self.routing {
                    Routing::RoundRobin => {
                        self.rr[v] = (self.rr[v] + 1) % n;
                        self.rr[v]
                    }
                    Routing::Random => {
                        let w = new_weight as f64 / 100.0;
                        let r = if want_new == (v == 1) {
                            if v == 1 {
                                u_route / w.max(1e-12)
                            } else {
                                (u_route - w) / (1.0 - w).max(1e-12)
                            }
                        } else {
                            u_route
                        };
                        ((r.clamp(0.0, 0.999_999_999) * n as f64) as usize).min(n - 1)
                    }
                    Routing::LeastOutstanding => return self.least(&load, Some(v)),
                };
                Some(self.eps[v][i])
            }
        }
    }

    fn least(&self, load: &impl Fn(u32) -> u32, only: Option<usize>) -> Option<u32> {
        let mut best: Option<(u32, u32)> = None;
        for (v, eps) in self.eps.iter().enumerate() {
            if only.is_some_and(|o| o != v) {
                continue;
            }
            for &p in eps {
                let l = load(p);
                if best.is_none_or(|(bl, _)| l < bl) {
                    best = Some((l, p));
                }
            }
        }
        best.map(|(_, p)| p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_cycles_all_endpoints() {
        let mut b = Balancer::new(Routing::RoundRobin, 4);
        for p in 0..3 {
            b.add(0, p);
        }
        b.add(1, 9);
        let mut seen: Vec<u32> = (0..8).filter_map(|_| b.pick(0.5, 0.5, |_| 0)).collect();
        seen.sort();
        assert_eq!(seen, vec![0, 0, 1, 1, 2, 2, 9, 9]);
    }

    #[test]
    fn weighted_split_follows_the_weight() {
        let mut b = Balancer::new(Routing::Random, 4);
        b.add(0, 0);
        b.add(1, 1);
        b.mode = Mode::Weighted {
            new_weight: 5,
            sticky: false,
        };
        let n = 100_000;
        let to_new = (0..n)
            .filter(|i| b.pick((*i as f64 + 0.5) / n as f64, 0.5, |_| 0) == Some(1))
            .count();
        assert_eq!(to_new, 5_000);
        assert_eq!(b.new_share(), 5.0);
    }

    #[test]
    fn removal_reports_the_moved_endpoint() {
        let mut b = Balancer::new(Routing::RoundRobin, 4);
        b.add(0, 10);
        b.add(0, 11);
        b.add(0, 12);
        assert_eq!(b.remove(0, 0), Some(12));
        assert_eq!(b.remove(0, 1), None);
        assert_eq!(b.count(0), 1);
    }

    #[test]
    fn least_outstanding_picks_the_idlest() {
        let mut b = Balancer::new(Routing::LeastOutstanding, 4);
        for p in 0..4 {
            b.add(0, p);
        }
        assert_eq!(b.pick(0.1, 0.1, |p| [3, 1, 0, 2][p as usize]), Some(2));
    }
}
