//! The `files` dataset: NumPy `.npy`/`.npz`, CSV and safetensors files read into the same
//! splits, and every hostile or wrong file refused with a message naming it and what is wrong.

use std::fs;
use std::path::{Path, PathBuf};

use highway_data::files::write::{self, Dtype};
use highway_data::{load, Dataset, DatasetName, FilesSpec, LoadOptions, Preprocess, SplitFiles};

fn tmp(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("highway-files-{name}-"))
        .tempdir()
        .unwrap()
}

/// 6 training and 3 test examples of 2×2 pixels, labels 0..3.
fn pixels(n: usize, offset: u8) -> Vec<u8> {
    (0..n * 4)
        .map(|i| (i as u8).wrapping_mul(7) + offset)
        .collect()
}
fn labels(n: usize) -> Vec<i64> {
    (0..n as i64).map(|i| i % 3).collect()
}

fn spec(train: SplitFiles, test: SplitFiles) -> FilesSpec {
    FilesSpec {
        train,
        test,
        features: "x".into(),
        labels: "y".into(),
        classes: None,
    }
}

fn one(p: &str) -> SplitFiles {
    SplitFiles::One(PathBuf::from(p))
}
fn pair(x: &str, y: &str) -> SplitFiles {
    SplitFiles::Pair {
        features: x.into(),
        labels: y.into(),
    }
}

fn load_files(dir: &Path, spec: FilesSpec) -> highway_data::Result<Dataset> {
    load(
        DatasetName::Files,
        dir,
        &LoadOptions {
            preprocess: Preprocess::None,
            files: Some(spec),
            ..Default::default()
        },
    )
}

/// The error of loading `spec` from `dir`, which must name `file` and say `want`.
fn refused(dir: &Path, spec: FilesSpec, file: &str, want: &str) {
    let e = load_files(dir, spec)
        .err()
        .unwrap_or_else(|| panic!("{file}: loaded"))
        .to_string();
    assert!(
        e.contains(&dir.join(file).display().to_string()) && e.contains(want),
        "{file}: wanted '{want}' in: {e}"
    );
}

fn npy_pair_spec() -> FilesSpec {
    spec(pair("tx.npy", "ty.npy"), pair("sx.npy", "sy.npy"))
}

/// A valid `.npy` pair for both splits in `dir`.
fn write_npy_pairs(dir: &Path) {
    fs::write(dir.join("tx.npy"), write::npy(&[6, 2, 2], &pixels(6, 0))).unwrap();
    fs::write(dir.join("ty.npy"), write::npy(&[6], &labels(6))).unwrap();
    fs::write(dir.join("sx.npy"), write::npy(&[3, 2, 2], &pixels(3, 1))).unwrap();
    fs::write(dir.join("sy.npy"), write::npy(&[3], &labels(3))).unwrap();
}

#[test]
fn every_format_reads_into_the_same_splits() {
    let dir = tmp("formats");
    let d = dir.path();
    write_npy_pairs(d);
    let reference = load_files(d, npy_pair_spec()).unwrap();
    assert_eq!(
        (
            reference.train.len(),
            reference.train.dim,
            reference.classes
        ),
        (6, 4, 3)
    );
    assert_eq!(reference.eval.labels, vec![0, 1, 2]);
    assert_eq!(reference.sources.len(), 4);
    assert_eq!(reference.sources[0].arrays[0].shape, vec![6, 2, 2]);
    assert_eq!(reference.sources[0].arrays[0].dtype, "|u1");
    assert_eq!(reference.sources[0].md5.len(), 32);

    let split = |n: usize, off: u8| {
        let x = write::npy(&[n, 2, 2], &pixels(n, off));
        let y = write::npy(&[n], &labels(n));
        (x, y)
    };
    for deflate in [false, true] {
        let (tx, ty) = split(6, 0);
        let (sx, sy) = split(3, 1);
        fs::write(
            d.join("t.npz"),
            write::npz(&[("x", tx), ("y", ty)], deflate),
        )
        .unwrap();
        fs::write(
            d.join("s.npz"),
            write::npz(&[("x", sx), ("y", sy)], deflate),
        )
        .unwrap();
        let npz = load_files(d, spec(one("t.npz"), one("s.npz"))).unwrap();
        assert_eq!(
            (&npz.train, &npz.eval, npz.classes),
            (&reference.train, &reference.eval, 3)
        );
        assert_eq!(npz.sources[0].arrays[1].name, "y");
    }

    let as_u32 = |n: usize| labels(n).iter().map(|&l| l as u32).collect::<Vec<_>>();
    fs::write(
        d.join("t.csv"),
        write::csv(4, &pixels(6, 0), &as_u32(6), "label"),
    )
    .unwrap();
    fs::write(
        d.join("s.csv"),
        write::csv(4, &pixels(3, 1), &as_u32(3), "label"),
    )
    .unwrap();
    let mut csv_spec = spec(one("t.csv"), one("s.csv"));
    csv_spec.labels = "label".into();
    let csv = load_files(d, csv_spec).unwrap();
    assert_eq!((&csv.train, &csv.eval), (&reference.train, &reference.eval));

    // Features in each numeric type, labels as int32.
    let f32s = |n: usize, off: u8| pixels(n, off).iter().map(|&p| p as f32).collect::<Vec<_>>();
    let le = |v: &[f32]| v.iter().flat_map(|f| f.to_le_bytes()).collect::<Vec<u8>>();
    let f16 = |v: &[f32]| {
        v.iter()
            .flat_map(|&f| half::f16::from_f32(f).to_le_bytes())
            .collect::<Vec<u8>>()
    };
    let f64le = |v: &[f32]| {
        v.iter()
            .flat_map(|&f| (f as f64).to_le_bytes())
            .collect::<Vec<u8>>()
    };
    let i32s = |n: usize| {
        labels(n)
            .iter()
            .flat_map(|&l| (l as i32).to_le_bytes())
            .collect()
    };
    for (dtype, bytes) in [
        (Dtype::F32, &le as &dyn Fn(&[f32]) -> Vec<u8>),
        (Dtype::F16, &f16),
        (Dtype::F64, &f64le),
    ] {
        let file = |n: usize, off: u8| {
            write::safetensors(&[
                ("x", dtype, vec![n, 4], bytes(&f32s(n, off))),
                ("y", Dtype::I32, vec![n], i32s(n)),
            ])
        };
        fs::write(d.join("t.safetensors"), file(6, 0)).unwrap();
        fs::write(d.join("s.safetensors"), file(3, 1)).unwrap();
        let st = load_files(d, spec(one("t.safetensors"), one("s.safetensors"))).unwrap();
        assert_eq!(
            (&st.train, &st.eval),
            (&reference.train, &reference.eval),
            "{dtype:?}"
        );
    }
    // npy features as int32, float16 and float64, labels as uint8 of shape [n, 1].
    let values: Vec<i32> = pixels(6, 0).iter().map(|&p| p as i32).collect();
    fs::write(d.join("tx.npy"), write::npy(&[6, 4], &values)).unwrap();
    let l8: Vec<u8> = labels(6).iter().map(|&l| l as u8).collect();
    fs::write(d.join("ty.npy"), write::npy(&[6, 1], &l8)).unwrap();
    assert_eq!(
        load_files(d, npy_pair_spec()).unwrap().train,
        reference.train
    );
    let h: Vec<half::f16> = f32s(6, 0).iter().map(|&f| half::f16::from_f32(f)).collect();
    fs::write(d.join("tx.npy"), write::npy(&[6, 4], &h)).unwrap();
    assert_eq!(
        load_files(d, npy_pair_spec()).unwrap().train,
        reference.train
    );
    let f: Vec<f64> = f32s(6, 0).iter().map(|&f| f as f64).collect();
    fs::write(d.join("tx.npy"), write::npy(&[6, 4], &f)).unwrap();
    assert_eq!(
        load_files(d, npy_pair_spec()).unwrap().train,
        reference.train
    );
}

/// Big-endian and Fortran-order arrays (what `numpy.asfortranarray(x).astype('>f4')` saves) are
/// read as the same numbers in the same order.
#[test]
fn big_endian_and_fortran_order_arrays_are_read_correctly() {
    let dir = tmp("order");
    let d = dir.path();
    write_npy_pairs(d);
    let reference = load_files(d, npy_pair_spec()).unwrap();
    let px = pixels(6, 0);
    // Element (i, j, k) of shape (6, 2, 2) sits at i + 6j + 12k in Fortran order.
    let mut fortran = [0f32; 24];
    for i in 0..6 {
        for j in 0..2 {
            for k in 0..2 {
                fortran[i + 6 * j + 12 * k] = px[i * 4 + j * 2 + k] as f32;
            }
        }
    }
    let be: Vec<u8> = fortran.iter().flat_map(|f| f.to_be_bytes()).collect();
    let file = write::npy_raw(
        "{'descr': '>f4', 'fortran_order': True, 'shape': (6, 2, 2), }",
        &be,
    );
    fs::write(d.join("tx.npy"), file).unwrap();
    let read = load_files(d, npy_pair_spec()).unwrap();
    assert_eq!(read.train, reference.train);
}

/// Each wrong or hostile file is refused with a message naming the file and what is wrong.
#[test]
fn wrong_npy_files_are_refused_by_name() {
    let dir = tmp("wrong-npy");
    let d = dir.path();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "tx.npy",
            // A terabyte announced by a file of a few hundred bytes.
            write::npy_raw(
                "{'descr': '|u1', 'fortran_order': False, 'shape': (1099511627776,), }",
                &[0; 100],
            ),
            "more than the 17179869184 bytes an array may hold",
        ),
        (
            "tx.npy",
            write::npy_raw(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000), }",
                &[0; 100],
            ),
            "truncated: its header announces shape [1000000, 1000] of <f4 = 4000000000 bytes of data, but only 100 follow its header",
        ),
        (
            "tx.npy",
            {
                // A header that claims to be 4 GiB long (format 2.0).
                let mut b = b"\x93NUMPY\x02\x00".to_vec();
                b.extend_from_slice(&u32::MAX.to_le_bytes());
                b.extend_from_slice(&[b' '; 100]);
                b
            },
            "its header announces 4294967295 bytes of header text, but the array is only 112",
        ),
        (
            "tx.npy",
            write::npy(&[6, 2, 2], &pixels(6, 0))[..100].to_vec(),
            "truncated",
        ),
        ("tx.npy", b"P5 not numpy".to_vec(), "not a NumPy .npy array"),
        (
            "tx.npy",
            write::npy_raw(
                "{'descr': '|O', 'fortran_order': False, 'shape': (6,), }",
                &[0; 48],
            ),
            "dtype |O (Python objects, stored pickled) is not a number type",
        ),
        (
            "tx.npy",
            write::npy_raw(
                "{'descr': '<U3', 'fortran_order': False, 'shape': (6,), }",
                &[0; 72],
            ),
            "(strings) is not a number type",
        ),
        (
            "tx.npy",
            {
                let mut v: Vec<f32> = pixels(6, 0).iter().map(|&p| p as f32).collect();
                v[9] = f32::NAN;
                write::npy(&[6, 2, 2], &v)
            },
            "feature 1 of example 2 is NaN (as a 32-bit float): features must be finite",
        ),
        (
            "tx.npy",
            write::npy(&[6, 4], &[1e300f64; 24]),
            "feature 0 of example 0 is inf",
        ),
        (
            "ty.npy",
            write::npy(&[6], &[0i64, 1, -1, 0, 1, 2]),
            "the label of example 2 is -1: labels are class indices from 0",
        ),
        (
            "ty.npy",
            write::npy(&[6], &[0f64, 1.5, 1., 0., 1., 2.]),
            "the label of example 1 is 1.5: labels are whole numbers",
        ),
        (
            "ty.npy",
            write::npy(&[5], &[0i64, 1, 2, 0, 1]),
            "5 labels for 6 examples in",
        ),
        (
            "ty.npy",
            write::npy(&[6, 2], &[0i64; 12]),
            "labels have shape [6, 2]: expected one label per example",
        ),
        (
            "ty.npy",
            write::npy(&[6], &[0i64, 1, 2, 0, 1, 1 << 40]),
            "at most 1000000 classes",
        ),
        (
            "tx.npy",
            {
                let mut b = write::npy(&[6, 2, 2], &pixels(6, 0));
                b.extend_from_slice(&[0; 8]);
                b
            },
            "8 bytes follow the 24 bytes of data that its header announces",
        ),
    ];
    for (file, bytes, want) in cases {
        write_npy_pairs(d);
        fs::write(d.join(file), bytes).unwrap();
        refused(d, npy_pair_spec(), file, want);
    }
    write_npy_pairs(d);
    fs::remove_file(d.join("sy.npy")).unwrap();
    refused(d, npy_pair_spec(), "sy.npy", "file not found");
    fs::write(d.join("x.txt"), b"1").unwrap();
    refused(
        d,
        spec(pair("x.txt", "ty.npy"), pair("sx.npy", "sy.npy")),
        "x.txt",
        "unknown data file format",
    );
    refused(
        d,
        spec(one("tx.npy"), pair("sx.npy", "sy.npy")),
        "tx.npy",
        "a .npy file holds one array",
    );
}

/// Labels past the classes the config gives, and test examples of another size.
#[test]
fn labels_out_of_range_and_mismatched_splits_are_refused() {
    let dir = tmp("range");
    let d = dir.path();
    write_npy_pairs(d);
    let mut two = npy_pair_spec();
    two.classes = Some(2);
    refused(d, two, "ty.npy", "record 2 has label 2, outside 0..2");
    fs::write(d.join("sx.npy"), write::npy(&[3, 5], &[0u8; 15])).unwrap();
    refused(
        d,
        npy_pair_spec(),
        "sx.npy",
        "its examples have 5 features, but the training examples",
    );
    write_npy_pairs(d);
    fs::write(d.join("ty.npy"), write::npy(&[6], &[0i64; 6])).unwrap();
    fs::write(d.join("sy.npy"), write::npy(&[3], &[0i64; 3])).unwrap();
    refused(d, npy_pair_spec(), "ty.npy", "the labels name 1 class(es)");
}

#[test]
fn wrong_csv_files_name_the_row_and_column() {
    let dir = tmp("csv");
    let d = dir.path();
    fs::write(d.join("s.csv"), "a,b,label\n1,2,0\n3,4,1\n").unwrap();
    let mut s = spec(one("t.csv"), one("s.csv"));
    s.labels = "label".into();
    let cases = [
        (
            "a,b,label\n1,2,0\n3,4\n",
            "line 3 has 2 fields, but the header row has 3",
        ),
        (
            "a,b,label\n1,2,0\n3,x4,1\n",
            "line 3, column 'b': 'x4' is not a number",
        ),
        (
            "a,b,label\n1,,0\n",
            "line 2, column 'b': '' is not a number",
        ),
        (
            "a,b,klass\n1,2,0\n",
            "no column named 'label' in the header row (its columns: a, b, klass)",
        ),
        (
            "a,b,label\n1,2,0.5\n",
            "column 'label': the label of example 0 is 0.5",
        ),
        ("a,b,label\n1,nan,0\n", "feature 1 of example 0 is NaN"),
        ("a,b,label\n1,2,-3\n", "the label of example 0 is -3"),
    ];
    for (text, want) in cases {
        fs::write(d.join("t.csv"), text).unwrap();
        refused(d, s.clone(), "t.csv", want);
    }
    fs::write(d.join("t.csv"), "a,b,label\n 1, 2 ,0\n3,4e0,1\n").unwrap();
    let ok = load_files(d, s).unwrap();
    assert_eq!(ok.train.features, vec![1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn wrong_npz_archives_and_zip_bombs_are_refused() {
    let dir = tmp("npz");
    let d = dir.path();
    let x = write::npy(&[3, 4], &pixels(3, 1));
    let y = write::npy(&[3], &labels(3));
    fs::write(
        d.join("s.npz"),
        write::npz(&[("x", x.clone()), ("y", y.clone())], true),
    )
    .unwrap();
    let s = spec(one("t.npz"), one("s.npz"));
    // A bomb: a valid array, then 256 MiB of zeros in the same entry, which claims only the
    // array's size. Reading stops one byte past the claim.
    let mut bomb_x = write::npy(&[6, 4], &pixels(6, 0));
    let claim = bomb_x.len() as u32;
    bomb_x.resize(bomb_x.len() + (256 << 20), 0);
    let mut bomb = write::npz(&[("x", bomb_x), ("y", write::npy(&[6], &labels(6)))], true);
    write::claim_size(&mut bomb, claim);
    // The entry of `y` keeps its real size: only `x` is cut to its array.
    let huge = write::npy_raw(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }",
        &[0; 64],
    );
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            write::npz(&[("features", x.clone()), ("y", y.clone())], false),
            "no array named 'x' in the archive (it holds: features, y)",
        ),
        (
            bomb,
            "array 'x' (x.npy in the archive): zip: File is larger than its declared uncompressed size",
        ),
        (
            write::npz(&[("x", huge), ("y", y.clone())], true),
            "array 'x' (x.npy in the archive): its header announces shape [1000000000000] of <f8: more than",
        ),
        (b"PK\x03\x04 but not a zip".to_vec(), "not a readable .npz (zip) archive"),
        (
            write::npz(&[("x", x[..x.len() - 3].to_vec()), ("y", y.clone())], true),
            "truncated: array 'x' (x.npy in the archive): its header announces shape [3, 4] of |u1 = 12 bytes of data, but only 9 follow",
        ),
    ];
    for (bytes, want) in cases {
        fs::write(d.join("t.npz"), bytes).unwrap();
        refused(d, s.clone(), "t.npz", want);
    }
}

#[test]
fn wrong_safetensors_files_are_refused() {
    let dir = tmp("st");
    let d = dir.path();
    let file = |x: &str, xdtype: Dtype, xbytes: Vec<u8>| {
        write::safetensors(&[
            (x, xdtype, vec![3, 4], xbytes),
            (
                "y",
                Dtype::I64,
                vec![3],
                labels(3).iter().flat_map(|l| l.to_le_bytes()).collect(),
            ),
        ])
    };
    fs::write(d.join("s.safetensors"), file("x", Dtype::U8, pixels(3, 1))).unwrap();
    let s = spec(one("t.safetensors"), one("s.safetensors"));
    // A header announcing a terabyte tensor, in a file of a few hundred bytes.
    let header = br#"{"x":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,12]}}"#;
    let mut huge = (header.len() as u64).to_le_bytes().to_vec();
    huge.extend_from_slice(header);
    huge.extend_from_slice(&[0; 12]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            file("pixels", Dtype::U8, pixels(3, 1)),
            "no tensor named 'x' (it holds: pixels, y)",
        ),
        (huge, "not a readable safetensors file"),
        (b"short".to_vec(), "not a readable safetensors file"),
        (
            file("x", Dtype::C64, vec![0; 96]),
            "tensor 'x' has dtype C64, not a number type",
        ),
        (
            file(
                "x",
                Dtype::F32,
                [1f32, f32::INFINITY]
                    .repeat(6)
                    .iter()
                    .flat_map(|f| f.to_le_bytes())
                    .collect(),
            ),
            "array 'x': feature 1 of example 0 is inf",
        ),
    ];
    for (bytes, want) in cases {
        fs::write(d.join("t.safetensors"), bytes).unwrap();
        refused(d, s.clone(), "t.safetensors", want);
    }
}

/// `validation` and `limit` act on the files as on MNIST.
#[test]
fn validation_and_limit_work_as_for_the_other_datasets() {
    let dir = tmp("split");
    let d = dir.path();
    write_npy_pairs(d);
    let opts = LoadOptions {
        validation: Some(0.5),
        limit: Some(2),
        files: Some(npy_pair_spec()),
        ..Default::default()
    };
    let data = load(DatasetName::Files, d, &opts).unwrap();
    assert_eq!((data.train.len(), data.eval.len()), (2, 2));
    assert_eq!(data.eval_kind, highway_data::EvalSplit::Validation);
    // Scaled by 1/255, as the default preprocessing does for MNIST.
    assert!(data
        .train
        .features
        .iter()
        .all(|&v| (0.0..=1.0).contains(&v)));
}

#[test]
fn inspect_says_shapes_ranges_and_class_counts() {
    let dir = tmp("inspect");
    let d = dir.path();
    let x = write::npy(&[6, 2, 2], &pixels(6, 0));
    let y = write::npy(&[6], &labels(6));
    fs::write(d.join("t.npz"), write::npz(&[("x", x), ("y", y)], true)).unwrap();
    let i = highway_data::files::inspect(&d.join("t.npz"), "y").unwrap();
    assert_eq!(i.arrays.len(), 2);
    assert_eq!(i.arrays[0].shape, vec![6, 2, 2]);
    assert_eq!(i.arrays[0].range, Some((0.0, 161.0)));
    assert_eq!(i.arrays[1].class_counts, Some(vec![2, 2, 2]));
    assert_eq!(
        i.md5,
        highway_data::fetch::file_md5(&d.join("t.npz")).unwrap()
    );
    fs::write(d.join("t.csv"), "a,b\n1,2\n3,4\n").unwrap();
    let i = highway_data::files::inspect(&d.join("t.csv"), "label").unwrap();
    assert_eq!(i.arrays[0].shape, vec![2, 2]);
    assert_eq!(i.arrays[0].range, Some((1.0, 4.0)));
}
