//! Self-contained SVG figures: line charts (`plot.rs`) and heat maps (`heatmap.rs`), drawn for
//! the sweep reports (`report/`) and the analyses of a trained net (`analyze/`).

pub(crate) mod heatmap;
pub(crate) mod plot;
