//! TEMPORARY STUB until the stats branch lands.
#[derive(Clone, Copy, Debug, Default)]
pub struct Interval {
    pub estimate: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}
pub struct Paired {
    pub n: u64,
    pub mean: Interval,
    pub better: Interval,
    pub share_worse: Option<f64>,
}
pub fn wilson(k: u64, n: u64, _l: f64) -> Interval {
    Interval {
        estimate: (n > 0).then(|| k as f64 / n as f64),
        low: None,
        high: None,
    }
}
pub fn mean_ci(v: &[f64], _l: f64) -> Interval {
    Interval {
        estimate: (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64),
        low: None,
        high: None,
    }
}
pub fn quantile_ci(v: &[f64], _c: u64, q: f64, _l: f64) -> Interval {
    Interval {
        estimate: v
            .get(((q * v.len() as f64).ceil() as usize).saturating_sub(1))
            .copied(),
        low: None,
        high: None,
    }
}
pub fn paired(a: &[Option<f64>], b: &[Option<f64>], _lb: bool, _l: f64) -> Paired {
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .filter_map(|(x, y)| Some((*y)? - (*x)?))
        .collect();
    Paired {
        n: d.len() as u64,
        mean: mean_ci(&d, 0.95),
        better: Interval::default(),
        share_worse: None,
    }
}
