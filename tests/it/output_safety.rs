//! deploysim never destroys what it did not write (DESIGN §2): a results directory is
//! replaced only when it is empty or carries the `.deploysim` marker; interrupts and
//! write errors leave no temporary directory; a closed stdout is a quiet exit.

use crate::{bin, scratch};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Every file under `dir` (relative path -> bytes), to prove nothing was touched.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut m = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p.clone());
                m.insert(p.strip_prefix(dir).expect("inside").to_owned(), Vec::new());
            } else {
                let bytes = std::fs::read(&p).expect("read");
                m.insert(p.strip_prefix(dir).expect("inside").to_owned(), bytes);
            }
        }
    }
    m
}

/// Names in `dir` that look like a staged or moved-aside results directory.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") || n.contains(".old-"))
        .collect()
}

/// A small, fast run of one strategy.
fn quick_run(cwd: &Path, out: &str) -> std::process::Output {
    bin()
        .current_dir(cwd)
        .args([
            "run",
            "--seeds",
            "2",
            "--strategy",
            "none",
            "--format",
            "none",
        ])
        .args(["--out", out])
        .output()
        .expect("run deploysim")
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A source tree: what the first wave's `--out sb` deleted.
fn source_tree(dir: &Path) {
    std::fs::create_dir_all(dir.join(".git/objects")).expect("mkdir");
    std::fs::create_dir_all(dir.join("src")).expect("mkdir");
    std::fs::write(dir.join(".git/HEAD"), "ref: refs/heads/main\n").expect("write");
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").expect("write");
    std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"x\"\n").expect("write");
}

#[test]
fn a_foreign_directory_is_refused_and_left_byte_for_byte() {
    let root = scratch("out_foreign");
    source_tree(&root.join("sb"));
    let before = snapshot(&root);
    for cmd in [
        vec!["run", "--seeds", "2", "--strategy", "none", "--out", "sb"],
        vec!["trace", "--strategy", "none", "--seed", "1", "--out", "sb"],
        vec!["check", "default", "--seeds", "2", "--out", "sb"],
    ] {
        let o = bin().current_dir(&root).args(&cmd).output().expect("run");
        assert_eq!(o.status.code(), Some(2), "{cmd:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains("sb") && e.contains(".deploysim"), "{cmd:?}: {e}");
        assert_eq!(snapshot(&root), before, "{cmd:?} touched files");
    }
}

#[test]
fn empty_and_marked_directories_are_replaced() {
    let root = scratch("out_replace");
    std::fs::create_dir(root.join("empty")).expect("mkdir");
    let o = quick_run(&root, "empty");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(root.join("empty/.deploysim").is_file());
    assert!(root.join("empty/runs.csv").is_file());
    // A marked directory is deploysim's own: it is replaced as a whole, so a file
    // a previous run left there is gone afterwards.
    std::fs::write(root.join("empty/stale.txt"), "old").expect("write");
    let o = quick_run(&root, "empty");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!root.join("empty/stale.txt").exists());
    assert!(root.join("empty/runs.csv").is_file());
    // A directory that does not exist yet is created, parents included.
    let o = quick_run(&root, "a/b/c");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(root.join("a/b/c/.deploysim").is_file());
    assert!(leftovers(&root).is_empty() && leftovers(&root.join("a/b")).is_empty());
}

#[test]
fn dot_parent_root_home_and_files_are_refused() {
    let root = scratch("out_special");
    let inner = root.join("inner");
    std::fs::create_dir(&inner).expect("mkdir");
    std::fs::write(inner.join("notes.txt"), "mine").expect("write");
    // A home directory is refused even when it carries a marker.
    let home = root.join("home");
    std::fs::create_dir(&home).expect("mkdir");
    std::fs::write(home.join(".deploysim"), "").expect("write");
    let before = snapshot(&root);
    let home_s = home.display().to_string();
    let cases: [(&str, &str); 5] = [
        (".", "current directory"),
        ("..", "parent"),
        ("/", "root"),
        ("notes.txt", "a file"),
        (&home_s, "home directory"),
    ];
    for (out, why) in cases {
        let o = bin()
            .current_dir(&inner)
            .env("HOME", &home)
            .args(["run", "--seeds", "2", "--strategy", "none", "--out", out])
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(2), "--out {out}: {}", stderr(&o));
        assert!(stderr(&o).contains(why), "--out {out}: {}", stderr(&o));
        assert_eq!(snapshot(&root), before, "--out {out} touched files");
    }
}

#[test]
fn sigint_and_sigterm_leave_no_temporary_directory_and_keep_old_results() {
    let root = scratch("out_signals");
    let o = quick_run(&root, "keep");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = snapshot(&root);
    for (sig, code) in [("INT", 130), ("TERM", 143)] {
        let child = bin()
            .current_dir(&root)
            .args([
                "run", "--seeds", "100000", "--out", "keep", "--format", "none",
            ])
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        // Wait until the run is under way (its staged directory exists); a watchdog of
        // at most 3,000 polls of 20 ms, not a speed target.
        let mut polls = 0;
        while leftovers(&root).is_empty() {
            polls += 1;
            assert!(polls < 3_000, "the run never staged its output");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300));
        let killed = Command::new("kill")
            .args([format!("-{sig}"), child.id().to_string()])
            .status()
            .expect("kill");
        assert!(killed.success());
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(code), "SIG{sig}: {}", stderr(&out));
        assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
        assert!(leftovers(&root).is_empty(), "{:?}", leftovers(&root));
        assert_eq!(snapshot(&root), before, "SIG{sig} changed the old results");
    }
}

/// Mounts a tmpfs (we run as root in CI); `None` where that is not permitted.
fn tmpfs(dir: &Path, opts: &str) -> Option<()> {
    std::fs::create_dir_all(dir).ok()?;
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
        .arg(dir)
        .stderr(Stdio::null())
        .status()
        .ok()?
        .success();
    ok.then_some(())
}

fn umount(dir: &Path) {
    let _ = Command::new("umount").arg(dir).status();
}

#[test]
fn a_read_only_or_full_filesystem_exits_2_with_the_path_and_leaves_nothing() {
    let root = scratch("out_write_errors");
    let ro = root.join("ro");
    let full = root.join("full");
    if tmpfs(&ro, "ro,size=1m").is_none() || tmpfs(&full, "size=48k").is_none() {
        umount(&ro);
        // Root ignores file modes, so only a mount gives a real read-only or full
        // filesystem; CI runs as root.
        eprintln!("note: cannot mount a tmpfs here; the write-error cases are not run");
        return;
    }
    let cases = [(&ro, "read-only"), (&full, "No space left")];
    let mut failures = Vec::new();
    for (dir, want) in cases {
        let o = bin()
            .current_dir(&root)
            .args(["run", "--seeds", "20", "--format", "none", "--out"])
            .arg(dir.join("r"))
            .output()
            .expect("run");
        let e = stderr(&o);
        if o.status.code() != Some(2)
            || !e.to_lowercase().contains(&want.to_lowercase())
            || !e.contains(&*dir.display().to_string())
        {
            failures.push(format!(
                "{}: exit {:?}: {e}",
                dir.display(),
                o.status.code()
            ));
        }
        let left: Vec<_> = std::fs::read_dir(dir)
            .map(|r| r.count())
            .into_iter()
            .collect();
        if left != [0] {
            failures.push(format!("{}: left {left:?} entries", dir.display()));
        }
    }
    umount(&ro);
    umount(&full);
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn a_closed_stdout_is_a_quiet_success() {
    for args in [
        vec!["list"],
        vec!["example"],
        vec!["trace", "--strategy", "none", "--seed", "1"],
    ] {
        let root = scratch("out_pipe");
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let o = bin()
            .current_dir(&root)
            .args(&args)
            .stdout(writer)
            .output()
            .expect("run");
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {e}");
        assert!(!e.contains("panicked"), "{args:?}: {e}");
    }
}

#[test]
fn bad_flags_are_refused_before_any_work() {
    let root = scratch("out_flags");
    let cases: [(&[&str], &str); 4] = [
        (
            &["run", "--seed-base", "18446744073709551614", "--seeds", "3"],
            "--seed-base",
        ),
        (&["run", "--seeds", "0"], "--seeds"),
        (&["check", "default", "--jobs", "0"], "--jobs"),
        (&["run", "no-such-scenario"], "no such file"),
    ];
    for (args, want) in cases {
        let o = bin().current_dir(&root).args(args).output().expect("run");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
        assert!(
            std::fs::read_dir(&root).expect("ls").next().is_none(),
            "{args:?} wrote files"
        );
    }
}
