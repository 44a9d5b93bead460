//! Self-contained SVG figures: line charts (`plot.rs`) and heat maps (`heatmap.rs`).

pub mod heatmap;
pub mod plot;
