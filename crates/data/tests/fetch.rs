//! `fetch` end to end against an HTTP server on 127.0.0.1 serving generated archives.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use highway_data::checksum::hex;
use highway_data::fetch::{fetch_sources, file_md5};
use highway_data::sources::Source;
use highway_data::{cifar, gzip, idx, load, DataError, DatasetName, LoadOptions};

fn tmp(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix(&format!("highway-fetch-{name}-"))
        .tempdir()
        .unwrap();
    let path = dir.path().to_path_buf();
    (dir, path)
}

/// Serves `routes` (path → bytes) on 127.0.0.1 for a bounded number of requests. A route named
/// `cut-once:` + path announces the full length but sends half the bytes on its first request.
fn serve(routes: Vec<(String, Vec<u8>)>, max_requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    thread::spawn(move || {
        for stream in listener.incoming().take(max_requests) {
            let mut stream = stream.unwrap();
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            reader.read_line(&mut line).unwrap();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap() <= 2 {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let n = hits.fetch_add(1, Ordering::SeqCst);
            let found = routes
                .iter()
                .find(|(p, _)| p.trim_start_matches("cut-once:") == path);
            match found {
                Some((p, body)) => {
                    let cut = p.starts_with("cut-once:") && n == 0;
                    let send = if cut {
                        &body[..body.len() / 2]
                    } else {
                        &body[..]
                    };
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(send);
                }
                None => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                }
            }
        }
    });
    format!("http://{addr}")
}

/// A CIFAR-10 archive in the official layout, a few records per file.
fn cifar10_archive() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("cifar-10-batches-bin/{name}"), data)
            .unwrap();
    };
    let mut rec = Vec::new();
    for i in 0..3u8 {
        rec.extend(cifar::encode_record(&[i], &[i; cifar::PIXELS]));
    }
    for f in &DatasetName::Cifar10.files()[..6] {
        add(f, &rec);
    }
    add(
        "batches.meta.txt",
        b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n",
    );
    gzip(&builder.into_inner().unwrap())
}

fn archive_source(file: &str, bytes: &[u8]) -> Source {
    Source {
        file: file.into(),
        md5: hex(&md5::Md5::digest(bytes)),
        raw_md5: None,
        archive: true,
    }
}

use md5::Digest;

fn nothing_looks_valid(dir: &Path) {
    let left: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn good_archive_installs_and_loads() {
    let archive = cifar10_archive();
    let base = serve(vec![("/cifar-10-binary.tar.gz".into(), archive.clone())], 1);
    let (_tmp, dir) = tmp("good");
    let mut seen = 0u64;
    fetch_sources(
        "cifar-10-batches-bin",
        &dir,
        &base,
        &[archive_source("cifar-10-binary.tar.gz", &archive)],
        &mut |_, done, _| seen = done,
    )
    .unwrap();
    assert_eq!(
        seen,
        archive.len() as u64,
        "progress reports the whole transfer"
    );
    let d = load(DatasetName::Cifar10, &dir, &LoadOptions::default()).unwrap();
    assert_eq!((d.train.len(), d.eval.len()), (15, 3));
    assert!(
        !dir.join("cifar-10-binary.tar.gz").exists(),
        "archive removed after unpacking"
    );
}

#[test]
fn corrupted_archive_fails_md5_and_leaves_nothing() {
    let archive = cifar10_archive();
    let mut corrupted = archive.clone();
    let mid = corrupted.len() / 2;
    corrupted[mid] ^= 0xff;
    let base = serve(vec![("/cifar-10-binary.tar.gz".into(), corrupted)], 1);
    let (_tmp, dir) = tmp("corrupt");
    let err = fetch_sources(
        "cifar-10-batches-bin",
        &dir,
        &base,
        &[archive_source("cifar-10-binary.tar.gz", &archive)],
        &mut |_, _, _| {},
    )
    .unwrap_err();
    assert!(matches!(err, DataError::Checksum { .. }), "{err}");
    assert!(err.to_string().contains("cifar-10-binary.tar.gz"), "{err}");
    nothing_looks_valid(&dir);
}

#[test]
fn cut_transfer_fails_cleanly_then_a_second_fetch_succeeds() {
    let images = gzip(&idx::encode(&[2, 2, 2], &[1, 2, 3, 4, 5, 6, 7, 8]));
    let base = serve(
        vec![(
            "cut-once:/train-images-idx3-ubyte.gz".into(),
            images.clone(),
        )],
        2,
    );
    let (_tmp, dir) = tmp("cut");
    let src = Source {
        file: "train-images-idx3-ubyte.gz".into(),
        md5: hex(&md5::Md5::digest(&images)),
        raw_md5: None,
        archive: false,
    };
    let err = fetch_sources(
        "mnist",
        &dir,
        &base,
        std::slice::from_ref(&src),
        &mut |_, _, _| {},
    )
    .unwrap_err();
    assert!(matches!(err, DataError::Download { .. }), "{err}");
    assert!(
        err.to_string().contains("train-images-idx3-ubyte.gz"),
        "{err}"
    );
    nothing_looks_valid(&dir.join("mnist"));
    fetch_sources(
        "mnist",
        &dir,
        &base,
        std::slice::from_ref(&src),
        &mut |_, _, _| {},
    )
    .unwrap();
    assert_eq!(
        file_md5(&dir.join("mnist/train-images-idx3-ubyte.gz")).unwrap(),
        src.md5
    );
}

#[test]
fn archive_entries_cannot_escape_the_data_directory() {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    let data = b"gotcha";
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    // Write the raw name past `append_data`'s own check, as a hostile archive would.
    header.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"../escaped.tx");
    header.set_cksum();
    builder.append(&header, &data[..]).unwrap();
    let archive = gzip(&builder.into_inner().unwrap());
    let base = serve(vec![("/evil.tar.gz".into(), archive.clone())], 1);
    let (_tmp, root) = tmp("escape");
    let dir = root.join("data");
    let err = fetch_sources(
        "cifar-10-batches-bin",
        &dir,
        &base,
        &[archive_source("evil.tar.gz", &archive)],
        &mut |_, _, _| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("escape"), "{err}");
    assert!(!root.join("escaped.tx").exists());
    nothing_looks_valid(&dir);
}

#[test]
fn unreadable_gzip_is_a_clear_error() {
    let bogus = b"definitely not gzip".to_vec();
    let base = serve(vec![("/bogus.tar.gz".into(), bogus.clone())], 1);
    let (_tmp, dir) = tmp("bogus");
    let err = fetch_sources(
        "cifar-10-batches-bin",
        &dir,
        &base,
        &[archive_source("bogus.tar.gz", &bogus)],
        &mut |_, _, _| {},
    )
    .unwrap_err();
    assert!(
        matches!(err, DataError::Archive { .. }) && err.to_string().contains("bogus.tar.gz"),
        "{err}"
    );
    nothing_looks_valid(&dir);
}

/// A mirror that sends its headers and then stalls fails the download after the read timeout,
/// naming the address, and leaves no partial file.
#[test]
fn a_stalling_mirror_times_out_and_leaves_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789"
            );
            let _ = stream.flush();
            thread::sleep(std::time::Duration::from_secs(20));
        }
    });
    highway_data::fetch::set_read_timeout(std::time::Duration::from_secs(1));
    let (_tmp, dir) = tmp("stall");
    let src = Source {
        file: "train-images-idx3-ubyte.gz".into(),
        md5: "0".repeat(32),
        raw_md5: None,
        archive: false,
    };
    let started = std::time::Instant::now();
    let err = fetch_sources("mnist", &dir, &base, &[src], &mut |_, _, _| {}).unwrap_err();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, DataError::Download { .. }), "{err}");
    assert!(err.to_string().contains(&base), "{err}");
    nothing_looks_valid(&dir.join("mnist"));
    assert!(
        fs::read_dir(dir.join("mnist")).unwrap().next().is_none(),
        "a partial file was left"
    );
}

/// A link planted at a download's temporary name is replaced, not followed: its target keeps
/// its bytes. A data folder that is a file is named as such.
#[test]
fn fetch_never_follows_a_planted_link_and_names_a_file_in_the_way() {
    let images = gzip(&idx::encode(&[2, 2, 2], &[1, 2, 3, 4, 5, 6, 7, 8]));
    let base = serve(
        vec![("/train-images-idx3-ubyte.gz".into(), images.clone())],
        1,
    );
    let (_tmp, dir) = tmp("link");
    let victim = dir.join("victim.txt");
    fs::write(&victim, b"precious").unwrap();
    fs::create_dir_all(dir.join("data/mnist")).unwrap();
    std::os::unix::fs::symlink(
        &victim,
        dir.join("data/mnist/train-images-idx3-ubyte.gz.part"),
    )
    .unwrap();
    let src = Source {
        file: "train-images-idx3-ubyte.gz".into(),
        md5: hex(&md5::Md5::digest(&images)),
        raw_md5: None,
        archive: false,
    };
    fetch_sources(
        "mnist",
        &dir.join("data"),
        &base,
        std::slice::from_ref(&src),
        &mut |_, _, _| {},
    )
    .unwrap();
    assert_eq!(fs::read(&victim).unwrap(), b"precious");
    assert_eq!(
        file_md5(&dir.join("data/mnist/train-images-idx3-ubyte.gz")).unwrap(),
        src.md5
    );
    let file = dir.join("not-a-folder");
    fs::write(&file, b"x").unwrap();
    let err = fetch_sources("mnist", &file, &base, &[src], &mut |_, _, _| {}).unwrap_err();
    assert!(
        err.to_string()
            .contains("not-a-folder: is a file, not a folder"),
        "{err}"
    );
}

/// A dataset folder that exists but lacks a file is completed by the next fetch (the files it
/// has are kept), instead of being skipped and failing at load.
#[test]
fn an_incomplete_dataset_folder_is_completed() {
    let archive = cifar10_archive();
    let base = serve(vec![("/cifar-10-binary.tar.gz".into(), archive.clone())], 2);
    let (_tmp, dir) = tmp("incomplete");
    let sources = [archive_source("cifar-10-binary.tar.gz", &archive)];
    let folder = "cifar-10-batches-bin";
    fetch_sources(folder, &dir, &base, &sources, &mut |_, _, _| {}).unwrap();
    let missing = dir.join(folder).join("data_batch_3.bin");
    fs::remove_file(&missing).unwrap();
    let kept = dir.join(folder).join("data_batch_1.bin");
    let kept_bytes = fs::read(&kept).unwrap();
    assert!(load(DatasetName::Cifar10, &dir, &LoadOptions::default()).is_err());
    fetch_sources(folder, &dir, &base, &sources, &mut |_, _, _| {}).unwrap();
    assert!(missing.is_file(), "the missing file was fetched");
    assert_eq!(fs::read(&kept).unwrap(), kept_bytes);
    let d = load(DatasetName::Cifar10, &dir, &LoadOptions::default()).unwrap();
    assert_eq!(d.train.len(), 15);
}
