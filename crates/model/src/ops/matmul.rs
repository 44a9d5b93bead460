//! Matmuls on `f32` slices for the Flex layer operations, split over the [`team`] by rows of the
//! output.
//!
//! Flex's own matmul hands a product to the `gemm` crate's rayon threads only above 192³
//! multiply-adds, and for these thin layers that split is slower than one thread. Here the
//! output is cut into one block of rows per thread, each block a single-threaded `gemm` call
//! on slice views, so that a layer's element-wise work can follow its block's matmul on the
//! same thread (docs/performance.md has the measurements).

use std::ops::Range;

use super::team;

/// A matrix in a slice: element `(i, j)` is `data[i · row_stride + j · col_stride]`.
#[derive(Clone, Copy)]
pub(super) struct View<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> View<'a> {
    /// A row-major `[rows, cols]` matrix.
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, cols, 1)
    }

    /// Rows `row_stride` apart, e.g. the left half of a `[rows, 2·cols]` matrix.
    pub fn strided(
        data: &'a [f32],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Self {
        if rows > 0 && cols > 0 {
            // Checked: in a release build a wrapped product would pass the bound below.
            let last = (rows - 1)
                .checked_mul(row_stride)
                .and_then(|r| (cols - 1).checked_mul(col_stride)?.checked_add(r));
            assert!(
                last.is_some_and(|last| last < data.len()),
                "matmul: view out of bounds"
            );
        }
        Self {
            data,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }

    /// The transpose, without copying.
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Columns `c` of the matrix, e.g. the inputs of a block of units.
    pub fn cols(self, c: Range<usize>) -> Self {
        assert!(c.end <= self.cols, "matmul: columns out of range");
        let data = if c.is_empty() {
            &self.data[..0]
        } else {
            &self.data[c.start * self.col_stride..]
        };
        Self {
            data,
            cols: c.len(),
            ..self
        }
    }

    /// Rows `r` of the matrix.
    pub fn rows(self, r: Range<usize>) -> Self {
        assert!(r.end <= self.rows, "matmul: rows out of range");
        let data = if r.is_empty() {
            &self.data[..0]
        } else {
            &self.data[r.start * self.row_stride..]
        };
        Self {
            data,
            rows: r.len(),
            ..self
        }
    }
}

/// `out = a · b` (or `out += a · b`), `out` row-major `[a.rows, b.cols]`, on this thread.
pub(super) fn gemm_into(out: &mut [f32], a: View, b: View, accumulate: bool) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(k, b.rows, "matmul: inner dimensions differ");
    #[cfg(test)]
    record::note(&a, &b, accumulate);
    assert_eq!(out.len(), m * n, "matmul: output size");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            out.fill(0.0);
        }
        return;
    }
    let s = |x: usize| x as isize;
    // SAFETY: `View::strided` checked that every element of `a` and `b` is inside its slice,
    // and `out` holds exactly `m · n` row-major values.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            s(n),
            accumulate,
            a.data.as_ptr(),
            s(a.col_stride),
            s(a.row_stride),
            b.data.as_ptr(),
            s(b.col_stride),
            s(b.row_stride),
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Multiply-adds below which one more thread does not pay for the hand-off.
const MIN_WORK: usize = 48 * 1024;

/// Row blocks of a `[rows, n]` output whose rows cost `work_per_row` multiply-adds each: one
/// block per thread, or fewer when the blocks would be too small to be worth a thread.
pub(super) fn row_blocks(rows: usize, work_per_row: usize) -> Vec<Range<usize>> {
    let min_rows = MIN_WORK.div_ceil(work_per_row.max(1)).max(8);
    team::ranges(rows, min_rows)
}

/// Each row block with its rows of a row-major `[rows, width]` buffer.
pub(super) fn row_parts<'a>(
    mut data: &'a mut [f32],
    width: usize,
    blocks: &[Range<usize>],
) -> Vec<(Range<usize>, &'a mut [f32])> {
    let mut parts = Vec::with_capacity(blocks.len());
    for r in blocks {
        let (head, tail) = data.split_at_mut(r.len() * width);
        parts.push((r.clone(), head));
        data = tail;
    }
    parts
}

/// Each row block with its rows of two row-major buffers (widths `wa` and `wb`).
pub(super) fn row_parts2<'a>(
    a: &'a mut [f32],
    wa: usize,
    b: &'a mut [f32],
    wb: usize,
    blocks: &[Range<usize>],
) -> Vec<(Range<usize>, &'a mut [f32], &'a mut [f32])> {
    row_parts(a, wa, blocks)
        .into_iter()
        .zip(row_parts(b, wb, blocks))
        .map(|((r, a), (_, b))| (r, a, b))
        .collect()
}

/// Writes the transpose of the row-major `[rows, cols]` matrix `a` into `out` (`[cols, rows]`),
/// in square tiles so that both sides stay in L1.
pub(super) fn transpose_into(a: &[f32], rows: usize, cols: usize, out: &mut [f32]) {
    const TILE: usize = 16;
    assert_eq!(a.len(), rows * cols, "transpose: input size");
    assert_eq!(out.len(), rows * cols, "transpose: output size");
    let dst = out.as_mut_ptr();
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            let c1 = (c0 + TILE).min(cols);
            for i in r0..(r0 + TILE).min(rows) {
                for (c, v) in (c0..c1).zip(&a[i * cols + c0..i * cols + c1]) {
                    // SAFETY: c < cols and i < rows, so the index is below rows · cols, which
                    // is `out.len()` (asserted above).
                    unsafe { *dst.add(c * rows + i) = *v };
                }
            }
        }
    }
}

/// Test builds only: the products [`gemm_into`] computes on this thread, so that a test can
/// check `ops::roofline`'s list of a step's products against the products the step really runs.
#[cfg(test)]
pub(super) mod record {
    use std::cell::RefCell;

    use super::View;

    /// One call: `m, k, n`, the strides of `a` and of `b` (rows, columns), and `accumulate`.
    pub type Call = ([usize; 3], [usize; 2], [usize; 2], bool);

    thread_local! {
        static CALLS: RefCell<Option<Vec<Call>>> = const { RefCell::new(None) };
    }

    pub(super) fn note(a: &View, b: &View, accumulate: bool) {
        CALLS.with(|c| {
            if let Some(calls) = c.borrow_mut().as_mut() {
                calls.push((
                    [a.rows, a.cols, b.cols],
                    [a.row_stride, a.col_stride],
                    [b.row_stride, b.col_stride],
                    accumulate,
                ));
            }
        });
    }

    /// What `f` returns, and the calls of [`super::gemm_into`] it made on this thread (all of
    /// them, when it runs inside `team::alone`).
    pub fn calls<R>(f: impl FnOnce() -> R) -> (R, Vec<Call>) {
        CALLS.with(|c| *c.borrow_mut() = Some(Vec::new()));
        let r = f();
        (r, CALLS.with(|c| c.borrow_mut().take().unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `out = a · b` (or `+=`) with the rows of `out` spread over the team.
    fn par_gemm(out: &mut [f32], a: View, b: View, accumulate: bool) {
        let parts = row_parts(out, b.cols, &row_blocks(a.rows, a.cols * b.cols));
        team::each(parts, &|(r, out)| gemm_into(out, a.rows(r), b, accumulate));
    }

    fn naive(a: View, b: View) -> Vec<f32> {
        let mut out = vec![0.0; a.rows * b.cols];
        for i in 0..a.rows {
            for j in 0..b.cols {
                out[i * b.cols + j] = (0..a.cols)
                    .map(|p| {
                        a.data[i * a.row_stride + p * a.col_stride]
                            * b.data[p * b.row_stride + j * b.col_stride]
                    })
                    .sum();
            }
        }
        out
    }

    fn close(got: &[f32], want: &[f32]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= 1e-4 * (1.0 + w.abs()), "{g} vs {w}");
        }
    }

    #[test]
    fn products_of_views_match_the_naive_loop() {
        let (m, k, n) = (300, 37, 23);
        let a: Vec<f32> = (0..m * k)
            .map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.1)
            .collect();
        let b: Vec<f32> = (0..k * 2 * n)
            .map(|i| ((i * 5 % 11) as f32 - 5.0) * 0.1)
            .collect();
        let av = View::new(&a, m, k);
        // The right half of a [k, 2n] matrix, and a transposed view of `a`.
        let bv = View::strided(&b[n..], k, n, 2 * n, 1);
        let mut out = vec![0.0; m * n];
        par_gemm(&mut out, av, bv, false);
        close(&out, &naive(av, bv));
        // Accumulating adds the product again.
        par_gemm(&mut out, av, bv, true);
        let twice: Vec<f32> = naive(av, bv).iter().map(|v| 2.0 * v).collect();
        close(&out, &twice);
        let at = av.t();
        let c: Vec<f32> = (0..m * 3).map(|i| (i % 5) as f32).collect();
        let cv = View::new(&c, m, 3);
        let mut small = vec![0.0; k * 3];
        par_gemm(&mut small, at, cv, false);
        close(&small, &naive(at, cv));
    }

    #[test]
    fn transposes() {
        for (rows, cols) in [(71, 1536), (3, 5), (1, 600), (40, 1), (17, 33)] {
            let a: Vec<f32> = (0..rows * cols).map(|i| i as f32).collect();
            let mut t = vec![0.0; rows * cols];
            transpose_into(&a, rows, cols, &mut t);
            for i in 0..rows {
                for j in 0..cols {
                    assert_eq!(t[j * rows + i], a[i * cols + j]);
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "out of bounds")]
    fn a_view_past_its_slice_is_refused() {
        View::strided(&[0.0; 10], 3, 4, 4, 1);
    }

    #[test]
    #[should_panic(expected = "out of bounds")]
    fn a_view_whose_extent_overflows_is_refused() {
        // (rows − 1) · row_stride wraps to a small number in release arithmetic.
        View::strided(&[0.0; 10], 3, 1, usize::MAX / 2 + 1, 1);
    }
}
