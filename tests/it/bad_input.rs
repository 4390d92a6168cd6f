//! Bad input never panics and never leaves output: exit 2, one message naming the key.

use crate::{bin, default_toml, scratch, write};

/// (case, scenario text, text the message must contain)
fn cases() -> Vec<(&'static str, String, &'static str)> {
    let d = default_toml();
    let replace = |from: &str, to: &str| {
        assert!(d.contains(from), "default.toml lacks {from:?}");
        d.replacen(from, to, 1)
    };
    vec![
        (
            "malformed",
            "name = \"x\"\n[service\nreplicas = 3\n".into(),
            "service",
        ),
        (
            "unknown key",
            replace("replicas = 20", "replicas = 20\nreplicaz = 3"),
            "replicaz",
        ),
        (
            "unitless duration",
            replace("timeout = \"2s\"", "timeout = 2"),
            "timeout",
        ),
        (
            "negative count",
            replace("replicas = 20", "replicas = -4"),
            "replicas",
        ),
        (
            "probability above 1",
            replace("bad_probability = 0.15", "bad_probability = 1.5"),
            "bad_probability",
        ),
        (
            "replicas beyond the cluster",
            replace("replicas = 20", "replicas = 2000"),
            "replicas",
        ),
        (
            "empty strategy list",
            d.split("[[strategy]]")
                .next()
                .unwrap_or_default()
                .to_string(),
            "strategy",
        ),
    ]
}

#[test]
fn bad_scenarios_exit_2_name_the_key_and_create_nothing() {
    let dir = scratch("bad_input");
    for (i, (case, text, key)) in cases().into_iter().enumerate() {
        let file = write(&dir, &format!("case{i}.toml"), &text);
        let v = bin()
            .arg("validate")
            .arg(&file)
            .output()
            .expect("run validate");
        let err = String::from_utf8_lossy(&v.stderr);
        assert_eq!(
            v.status.code(),
            Some(2),
            "{case}: validate exit status; stderr: {err}"
        );
        assert!(
            err.contains(key),
            "{case}: message does not name '{key}': {err}"
        );
        assert!(!err.contains("panicked"), "{case}: panicked: {err}");
        assert!(
            err.contains(&format!("case{i}.toml")),
            "{case}: message does not name the file: {err}"
        );
        let out = dir.join(format!("out{i}"));
        let r = bin()
            .args(["run", "--seeds", "2", "--quiet", "--out"])
            .arg(&out)
            .arg(&file)
            .output()
            .expect("run");
        assert_eq!(r.status.code(), Some(2), "{case}: run exit status");
        assert!(
            !out.exists(),
            "{case}: run created {out:?} despite bad input"
        );
    }
}

#[test]
fn missing_file_and_unknown_strategy_exit_2() {
    let dir = scratch("bad_input_misc");
    let v = bin()
        .arg("validate")
        .arg(dir.join("nope.toml"))
        .output()
        .expect("run");
    assert_eq!(v.status.code(), Some(2));
    let file = write(&dir, "ok.toml", default_toml());
    let t = bin()
        .args(["trace", "--strategy", "no-such", "--seed", "1", "--out"])
        .arg(dir.join("t"))
        .arg(&file)
        .output()
        .expect("run");
    assert_eq!(t.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&t.stderr).contains("no-such"));
    let r = bin()
        .args([
            "run",
            "--seeds",
            "1",
            "--strategy",
            "nope",
            "--quiet",
            "--out",
        ])
        .arg(dir.join("r"))
        .output()
        .expect("run");
    assert_eq!(r.status.code(), Some(2));
    assert!(!dir.join("r").exists());
}

/// A scenario argument that is neither a readable file nor a bundled name: exit 2
/// with the path, for validate and run alike.
#[test]
fn unreadable_or_unknown_scenarios_exit_2_naming_them() {
    let dir = scratch("bad_input_unreadable");
    let cases = [
        (
            "/nonexistent/dir/x.toml",
            "no such file, and no bundled scenario",
        ),
        (
            dir.to_str().expect("utf-8 path"),
            "cannot read the scenario file",
        ),
    ];
    for (arg, want) in cases {
        for cmd in ["validate", "run"] {
            let o = bin()
                .current_dir(&dir)
                .args([cmd, arg])
                .output()
                .expect("run");
            let e = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{cmd} {arg}: {e}");
            assert!(e.contains(arg) && e.contains(want), "{cmd} {arg}: {e}");
        }
    }
}
