//! A matrix product as a Flex layer operation runs it, described rather than run: its operands'
//! layouts, whether it accumulates, and how it is split over the [`team`]. Each operation says
//! what products its passes run (beside the passes, so the two change together), and
//! `ops::roofline` times a training step's list of them alone, with the very calls the passes
//! make, to show how much of the step is matmul.

use std::ops::Range;

use super::matmul::{gemm_into, row_parts, View};
use super::team;

/// Where an operand's elements lie in its buffer: element `(i, j)` at
/// `offset + i · row_stride + j · col_stride` (a [`View`] of the buffer from `offset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operand {
    pub(super) offset: usize,
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) row_stride: usize,
    pub(super) col_stride: usize,
}

impl Operand {
    /// A row-major `[rows, cols]` matrix.
    pub(super) fn new(rows: usize, cols: usize) -> Operand {
        Operand::strided(0, rows, cols, cols, 1)
    }

    /// Rows `row_stride` apart from `offset` on, e.g. the right half of a `[rows, 2·cols]`
    /// matrix.
    pub(super) fn strided(
        offset: usize,
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Operand {
        Operand {
            offset,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }

    /// The transpose, as [`View::t`] reads it.
    pub(super) fn t(self) -> Operand {
        Operand {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// The values a buffer must hold for this operand.
    fn len(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            return self.offset;
        }
        self.offset + (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride + 1
    }

    fn view<'a>(&self, data: &'a [f32]) -> View<'a> {
        View::strided(
            &data[self.offset..],
            self.rows,
            self.cols,
            self.row_stride,
            self.col_stride,
        )
    }
}

/// `out = a · b` (or `out += a · b`), `out` row-major `[a.rows, b.cols]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Product {
    pub(super) a: Operand,
    pub(super) b: Operand,
    pub(super) accumulate: bool,
}

impl Product {
    pub(super) fn new(a: Operand, b: Operand, accumulate: bool) -> Product {
        assert_eq!(a.cols, b.rows, "product: inner dimensions differ");
        Product { a, b, accumulate }
    }

    /// `[m, k, n]`: `out` is `[m, n]`, the inner dimension `k`.
    pub fn dims(&self) -> [usize; 3] {
        [self.a.rows, self.a.cols, self.b.cols]
    }

    /// Floating-point operations: a multiply and an add per term, `2·m·k·n`.
    pub fn flop(&self) -> f64 {
        let [m, k, n] = self.dims();
        2.0 * m as f64 * k as f64 * n as f64
    }
}

/// How a task's parts share out its products' outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// Part `r` computes rows `r` of each output, in place.
    Rows,
    /// Part `r` computes columns `r` of each output into a block of its own (the input layer's
    /// `dW`, computed transposed and then transposed into place, which is not timed here).
    Cols,
}

/// One call of `team::each` in a pass: its products, each block of `blocks` a part that runs
/// every product on its rows (or columns) on one thread.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    /// What the task computes, e.g. `highway dx`.
    pub name: &'static str,
    pub split: Split,
    pub blocks: Vec<Range<usize>>,
    pub products: Vec<Product>,
}

impl Task {
    pub fn flop(&self) -> f64 {
        self.products.iter().map(Product::flop).sum()
    }
}

/// A task's buffers, one [`Operands`] per product.
pub(super) struct Buffers {
    products: Vec<Operands>,
}

/// A product's `a` and `b`, and its output: one buffer, or one per part for [`Split::Cols`].
struct Operands {
    a: Vec<f32>,
    b: Vec<f32>,
    outs: Vec<Vec<f32>>,
}

impl Buffers {
    /// Buffers for `task` holding small values (no zeros to skip, no denormals on the way).
    pub fn new(task: &Task) -> Buffers {
        let fill = |len: usize| -> Vec<f32> {
            (0..len)
                .map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.01)
                .collect()
        };
        let products = task
            .products
            .iter()
            .map(|p| {
                let [m, _, n] = p.dims();
                let outs = match task.split {
                    Split::Rows => vec![fill(m * n)],
                    Split::Cols => task.blocks.iter().map(|c| fill(m * c.len())).collect(),
                };
                Operands {
                    a: fill(p.a.len()),
                    b: fill(p.b.len()),
                    outs,
                }
            })
            .collect();
        Buffers { products }
    }
}

/// Runs `task`'s products on `buffers` as its operation does: one `team::each` whose parts run
/// each product on their block, with the same views and splits.
pub(super) fn run(task: &Task, buffers: &mut Buffers) {
    let (mut operands, mut per_product) = (Vec::new(), Vec::new());
    for (p, Operands { a, b, outs }) in task.products.iter().zip(&mut buffers.products) {
        operands.push((p.a.view(a), p.b.view(b), p.accumulate));
        per_product.push(match task.split {
            Split::Rows => row_parts(&mut outs[0], p.dims()[2], &task.blocks),
            Split::Cols => task
                .blocks
                .iter()
                .cloned()
                .zip(outs.iter_mut().map(Vec::as_mut_slice))
                .collect(),
        });
    }
    let split = task.split;
    team::each(by_part(per_product, task.blocks.len()), &|part| {
        for ((r, out), (a, b, accumulate)) in part.into_iter().zip(&operands) {
            match split {
                Split::Rows => gemm_into(out, a.rows(r), *b, *accumulate),
                Split::Cols => gemm_into(out, *a, b.cols(r), *accumulate),
            }
        }
    });
}

/// A part of a task: for each product, its block and its slice of the output.
type Part<'a> = Vec<(Range<usize>, &'a mut [f32])>;

/// Per-product lists of parts, regrouped into per-part lists of products.
fn by_part(per_product: Vec<Part<'_>>, parts: usize) -> Vec<Part<'_>> {
    let mut per_part: Vec<Part> = (0..parts).map(|_| Vec::new()).collect();
    for product in per_product {
        for (p, item) in product.into_iter().enumerate() {
            per_part[p].push(item);
        }
    }
    per_part
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A task split in two parts computes what one call on the whole product computes.
    #[test]
    fn parts_compute_the_whole_product() {
        let (a, b) = (Operand::new(7, 5), Operand::new(5, 4));
        for (split, blocks) in [
            (Split::Rows, vec![0..3, 3..7]),
            (Split::Cols, vec![0..1, 1..4]),
        ] {
            let task = Task {
                name: "test",
                split,
                blocks,
                products: vec![Product::new(a, b, false)],
            };
            let mut buffers = Buffers::new(&task);
            run(&task, &mut buffers);
            let Operands { a: av, b: bv, outs } = &buffers.products[0];
            let mut want = vec![0.0; 7 * 4];
            gemm_into(&mut want, a.view(av), b.view(bv), false);
            let got: Vec<f32> = match split {
                Split::Rows => outs[0].clone(),
                // Each part's block of columns, put back side by side.
                Split::Cols => (0..7)
                    .flat_map(|i| [&outs[0][i..i + 1], &outs[1][3 * i..3 * i + 3]].concat())
                    .collect(),
            };
            assert_eq!(got, want, "{split:?}");
        }
    }
}
