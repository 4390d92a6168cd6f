//! The metric catalogue: every `runs.csv` column and every summary rate, with its
//! name, unit and meaning for the statistics (DESIGN §6).
//!
//! The one list from which the `runs.csv` header, the summarised metrics, the
//! `[[expect]]` gate names, `compare.csv` and the terminal table derive. Pure data at
//! the bottom of the layering: it imports nothing, so `scenario` (gate names) and
//! `metrics`/`report` (values, files) can all use it. A new column is one variant
//! here; the compiler then asks for its value (`metrics::RunRow::metric`) and its
//! cell (`report::files`).

/// A `runs.csv` column, in file order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Scenario,
    Strategy,
    Seed,
    Faulty,
    Fault,
    Outcome,
    DeployDurationS,
    Requests,
    FailedRequests,
    ImpactedRequests,
    ExposedRequests,
    BlastRadius,
    UsersAffected,
    UserBlastRadius,
    DowntimeS,
    DegradedS,
    DetectS,
    DecideS,
    RollbackS,
    ExposureEndS,
    RecoveryS,
    PeakPods,
    ExtraPodSeconds,
    LatencyMeanMs,
    LatencyP50Ms,
    LatencyP99Ms,
    FalseRollback,
    StrategyKind,
    CaughtStage,
    LeadTimeS,
    AnalysisMeasurements,
    AnalysisFailed,
    AnalysisInconclusive,
    AnalysisErrors,
}

/// How a metric's value may be missing from a run, which decides how the summary
/// counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Censoring {
    /// Every run has a value.
    Never,
    /// A time from t0 that may not happen by the horizon: right-censored there.
    AtHorizon,
    /// A time from the rollback decision: does not apply without a decision, and is
    /// censored at the horizon when the rollback has not finished.
    FromDecision,
    /// Does not apply to some runs (no successful request, not a pipeline run).
    Optional,
}

/// What the summary needs to know about a numeric column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricDef {
    pub unit: &'static str,
    pub lower_is_better: bool,
    pub censoring: Censoring,
    /// Quantiles mean something (not for a yes/no value, whose mean is its rate).
    pub quantiles: bool,
}

const fn m(unit: &'static str, censoring: Censoring) -> Option<MetricDef> {
    Some(MetricDef {
        unit,
        lower_is_better: true,
        censoring,
        quantiles: true,
    })
}

impl Column {
    pub const ALL: [Column; 34] = [
        Column::Scenario,
        Column::Strategy,
        Column::Seed,
        Column::Faulty,
        Column::Fault,
        Column::Outcome,
        Column::DeployDurationS,
        Column::Requests,
        Column::FailedRequests,
        Column::ImpactedRequests,
        Column::ExposedRequests,
        Column::BlastRadius,
        Column::UsersAffected,
        Column::UserBlastRadius,
        Column::DowntimeS,
        Column::DegradedS,
        Column::DetectS,
        Column::DecideS,
        Column::RollbackS,
        Column::ExposureEndS,
        Column::RecoveryS,
        Column::PeakPods,
        Column::ExtraPodSeconds,
        Column::LatencyMeanMs,
        Column::LatencyP50Ms,
        Column::LatencyP99Ms,
        Column::FalseRollback,
        Column::StrategyKind,
        Column::CaughtStage,
        Column::LeadTimeS,
        Column::AnalysisMeasurements,
        Column::AnalysisFailed,
        Column::AnalysisInconclusive,
        Column::AnalysisErrors,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Column::Scenario => "scenario",
            Column::Strategy => "strategy",
            Column::Seed => "seed",
            Column::Faulty => "faulty",
            Column::Fault => "fault",
            Column::Outcome => "outcome",
            Column::DeployDurationS => "deploy_duration_s",
            Column::Requests => "requests",
            Column::FailedRequests => "failed_requests",
            Column::ImpactedRequests => "impacted_requests",
            Column::ExposedRequests => "exposed_requests",
            Column::BlastRadius => "blast_radius",
            Column::UsersAffected => "users_affected",
            Column::UserBlastRadius => "user_blast_radius",
            Column::DowntimeS => "downtime_s",
            Column::DegradedS => "degraded_s",
            Column::DetectS => "detect_s",
            Column::DecideS => "decide_s",
            Column::RollbackS => "rollback_s",
            Column::ExposureEndS => "exposure_end_s",
            Column::RecoveryS => "recovery_s",
            Column::PeakPods => "peak_pods",
            Column::ExtraPodSeconds => "extra_pod_seconds",
            Column::LatencyMeanMs => "latency_mean_ms",
            Column::LatencyP50Ms => "latency_p50_ms",
            Column::LatencyP99Ms => "latency_p99_ms",
            Column::FalseRollback => "false_rollback",
            Column::StrategyKind => "strategy_kind",
            Column::CaughtStage => "caught_stage",
            Column::LeadTimeS => "lead_time_s",
            Column::AnalysisMeasurements => "analysis_measurements",
            Column::AnalysisFailed => "analysis_failed",
            Column::AnalysisInconclusive => "analysis_inconclusive",
            Column::AnalysisErrors => "analysis_errors",
        }
    }

    /// The summary's view of a numeric column; `None` for identity and label columns.
    pub const fn metric(self) -> Option<MetricDef> {
        use Censoring::*;
        match self {
            Column::Scenario
            | Column::Strategy
            | Column::Seed
            | Column::Faulty
            | Column::Fault
            | Column::Outcome
            | Column::StrategyKind
            | Column::CaughtStage => None,
            Column::DeployDurationS => m("s", AtHorizon),
            Column::Requests => Some(MetricDef {
                unit: "requests",
                lower_is_better: false,
                censoring: Never,
                quantiles: true,
            }),
            Column::FailedRequests => m("requests", Never),
            Column::ImpactedRequests => m("requests", Never),
            Column::ExposedRequests => m("requests", Never),
            Column::BlastRadius => m("share", Never),
            Column::UsersAffected => m("users", Never),
            Column::UserBlastRadius => m("share", Never),
            Column::DowntimeS => m("s", Never),
            Column::DegradedS => m("s", Never),
            Column::DetectS => m("s", AtHorizon),
            Column::DecideS => m("s", AtHorizon),
            Column::RollbackS => m("s", FromDecision),
            Column::ExposureEndS => m("s", Optional),
            Column::RecoveryS => m("s", AtHorizon),
            Column::PeakPods => m("pods", Never),
            Column::ExtraPodSeconds => m("pod·s", Never),
            Column::LatencyMeanMs => m("ms", Optional),
            Column::LatencyP50Ms => m("ms", Optional),
            Column::LatencyP99Ms => m("ms", Optional),
            Column::FalseRollback => Some(MetricDef {
                unit: "run",
                lower_is_better: true,
                censoring: Never,
                quantiles: false,
            }),
            Column::LeadTimeS => m("s", Optional),
            Column::AnalysisMeasurements => Some(MetricDef {
                unit: "measurements",
                lower_is_better: false,
                censoring: Never,
                quantiles: true,
            }),
            Column::AnalysisFailed => m("measurements", Never),
            Column::AnalysisInconclusive => m("measurements", Never),
            Column::AnalysisErrors => m("measurements", Never),
        }
    }

    /// The column of this name.
    pub fn named(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.name() == name)
    }
}

const fn count_metrics() -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < Column::ALL.len() {
        if Column::ALL[i].metric().is_some() {
            n += 1;
        }
        i += 1;
    }
    n
}

/// How many columns the summary summarises.
pub const N_METRICS: usize = count_metrics();

const fn metric_columns() -> [Column; N_METRICS] {
    let mut out = [Column::Requests; N_METRICS];
    let (mut i, mut k) = (0, 0);
    while i < Column::ALL.len() {
        if Column::ALL[i].metric().is_some() {
            out[k] = Column::ALL[i];
            k += 1;
        }
        i += 1;
    }
    out
}

/// The summarised columns, in `runs.csv` order (also the `summary.csv` order).
pub const METRICS: [Column; N_METRICS] = metric_columns();

/// The position of a summarised column in `METRICS`.
pub fn metric_index(c: Column) -> Option<usize> {
    METRICS.iter().position(|&x| x == c)
}

/// The metrics `compare.csv` pairs against the first strategy, in file order.
pub const COMPARED: [Column; 8] = [
    Column::BlastRadius,
    Column::ImpactedRequests,
    Column::UsersAffected,
    Column::DowntimeS,
    Column::DegradedS,
    Column::ExposureEndS,
    Column::DeployDurationS,
    Column::ExtraPodSeconds,
];

/// A share of runs reported with a Wilson interval (`stat = rate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rate {
    Outage,
    Rollback,
    FalseRollback,
    Exposed,
    Completed,
    /// The alert rule or an analysis fired on a healthy release.
    FalseAlarm,
}

impl Rate {
    pub const ALL: [Rate; 6] = [
        Rate::Outage,
        Rate::Rollback,
        Rate::FalseRollback,
        Rate::Exposed,
        Rate::Completed,
        Rate::FalseAlarm,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Rate::Outage => "p_outage",
            Rate::Rollback => "p_rollback",
            Rate::FalseRollback => "p_false_rollback",
            Rate::Exposed => "p_exposed",
            Rate::Completed => "p_completed",
            Rate::FalseAlarm => "p_false_alarm",
        }
    }

    /// Whether the rate is taken among healthy releases only (else among all runs of
    /// the subset).
    pub const fn among_healthy(self) -> bool {
        matches!(self, Rate::FalseRollback | Rate::FalseAlarm)
    }

    /// The note `summary.csv` carries for it.
    pub const fn note(self) -> &'static str {
        if self.among_healthy() {
            "among healthy releases"
        } else {
            ""
        }
    }

    pub fn named(name: &str) -> Option<Rate> {
        Rate::ALL.into_iter().find(|r| r.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DESIGN §6's `runs.csv` columns, in its order (plus the pipeline's
    /// `strategy_kind`, `caught_stage`, `lead_time_s`, and §9's four analysis counts),
    /// written out independently of the enum.
    #[test]
    fn columns_are_the_design_list_and_names_round_trip() {
        let design = "scenario,strategy,seed,faulty,fault,outcome,deploy_duration_s,requests,\
            failed_requests,impacted_requests,exposed_requests,blast_radius,users_affected,\
            user_blast_radius,downtime_s,degraded_s,detect_s,decide_s,rollback_s,\
            exposure_end_s,recovery_s,peak_pods,extra_pod_seconds,latency_mean_ms,\
            latency_p50_ms,latency_p99_ms,false_rollback,strategy_kind,caught_stage,lead_time_s,\
            analysis_measurements,analysis_failed,analysis_inconclusive,analysis_errors";
        let names: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.join(","), design.replace(' ', ""));
        for c in Column::ALL {
            assert_eq!(Column::named(c.name()), Some(c));
        }
        for r in Rate::ALL {
            assert_eq!(Rate::named(r.name()), Some(r));
        }
        // Identity and label columns are not summarised: 34 columns, 8 of them.
        assert_eq!(N_METRICS, 26);
        assert!(COMPARED.iter().all(|c| c.metric().is_some()));
    }
}
