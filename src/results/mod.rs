//! Result tables and figures of the experiments (docs/RESULTS.md), built from
//! audit reports so that every number goes through the one audit code path:
//! the IdFOPNet accuracy tables, the fairness paper's hold-out summaries, and
//! the per-keypoint DP chart of several models.
pub mod accuracy_table;
pub mod classes;
pub mod dp_chart;
pub mod holdouts;
pub mod markdown;
pub mod study;
