//! What every turn of one command shares: the sweep folder, the data and its fingerprint, the
//! backend, the stop request and the size of the plan. One value, handed down from the sweep
//! to each turn and each cohort's loop.

use highway_data::Dataset;

use super::signals::Stop;
use crate::backend::BackendName;
use crate::store::SweepDir;

pub(super) struct Job<'a> {
    pub(super) dir: SweepDir,
    pub(super) data: &'a Dataset,
    /// The data's content fingerprint, recorded in each run's spec.
    pub(super) fingerprint: &'a str,
    pub(super) backend: BackendName,
    pub(super) stop: &'a Stop,
    /// How many runs the plan has (the `N` of `[i/N]` in the log).
    pub(super) planned: usize,
}
