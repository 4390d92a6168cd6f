//! The Kubernetes deployment in `deploy/k8s/` (DESIGN §11), checked offline: the
//! manifests are parsed as YAML and held to what the sharded sweep relies on, and the
//! pods' commands are run the way the kubelet runs them (the container's environment
//! plus the Job controller's `JOB_COMPLETION_INDEX`, `$(VAR)` expansion, then
//! `command` + `args`) for every completion index, with the real binary and a scratch
//! directory standing in for the shared volume.

use crate::{bin, scratch};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

/// The one Kubernetes object in `deploy/k8s/<name>`.
fn manifest(name: &str) -> Value {
    let path = deploy_dir().join("k8s").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
        .unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()));
    assert_eq!(docs.len(), 1, "{name}: one object per file");
    docs.into_iter().next().unwrap_or(Value::Null)
}

fn pod_spec(job: &Value) -> &Value {
    &job["spec"]["template"]["spec"]
}

/// The pod's only container.
fn container(pod: &Value) -> &Value {
    let containers = pod["containers"].as_array().expect("containers");
    assert_eq!(containers.len(), 1, "one container per pod");
    &containers[0]
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().expect("a string").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The container's `env` as (name, value) pairs, in order.
fn env(container: &Value) -> Vec<(String, String)> {
    container["env"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    let name = e["name"].as_str().expect("env name").to_string();
                    let value = e["value"].as_str().expect("env value is a string");
                    (name, value.to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn env_value<'a>(env: &'a [(String, String)], name: &str) -> &'a str {
    env.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no env {name}"))
}

/// Where the container mounts the volume `volume`.
fn mount_path(container: &Value, volume: &str) -> String {
    container["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .find(|m| m["name"] == volume)
        .and_then(|m| m["mountPath"].as_str())
        .unwrap_or_else(|| panic!("volume {volume} is not mounted"))
        .to_string()
}

/// The kubelet's expansion of `command` and `args`, as the Kubernetes API documents
/// it: `$(NAME)` becomes the value of the container's variable NAME, a reference to
/// an undefined name stays as written, and `$$` is one literal `$`.
fn kubelet_expand(text: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some((name, tail)) = after.strip_prefix('(').and_then(|t| t.split_once(')')) {
            match env.iter().find(|(n, _)| n == name) {
                Some((_, value)) => out.push_str(value),
                None => {
                    out.push_str("$(");
                    out.push_str(name);
                    out.push(')');
                }
            }
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Runs the container's command as the kubelet would, with `volume_path` replaced by
/// `volume_dir` in the arguments and the built `deploysim` first on PATH.
fn run_container(
    container: &Value,
    env: &[(String, String)],
    volume_path: &str,
    volume_dir: &Path,
) -> std::process::Output {
    let command = strings(&container["command"]);
    let args: Vec<String> = strings(&container["args"])
        .iter()
        .map(|a| kubelet_expand(a, env).replace(volume_path, &volume_dir.to_string_lossy()))
        .collect();
    let (program, leading) = command.split_first().expect("a command");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_deploysim"))
        .parent()
        .expect("bin dir");
    Command::new(program)
        .args(leading)
        .args(&args)
        .env_clear()
        .envs(env.iter().map(|(n, v)| (n, v)))
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
        .output()
        .expect("start the container command")
}

#[test]
fn shards_job_is_indexed_with_n_completions_and_shards_equal_to_n() {
    let job = manifest("shards-job.yaml");
    assert_eq!(job["apiVersion"], "batch/v1");
    assert_eq!(job["kind"], "Job");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let n = spec["completions"].as_u64().expect("completions");
    let parallelism = spec["parallelism"].as_u64().expect("parallelism");
    assert!(n >= 2, "a sharded sweep has several shards");
    assert!((1..=n).contains(&parallelism), "parallelism {parallelism}");
    assert!(spec["backoffLimit"].as_u64().is_some(), "backoffLimit");
    assert_eq!(pod_spec(&job)["restartPolicy"], "Never");
    let env = env(container(pod_spec(&job)));
    assert_eq!(
        env_value(&env, "SHARDS"),
        n.to_string(),
        "SHARDS == completions"
    );
    let script = strings(&container(pod_spec(&job))["args"]).join(" ");
    assert!(
        script.contains(r#"--shard "$((JOB_COMPLETION_INDEX + 1))/$SHARDS""#),
        "the 0-based index becomes the 1-based shard: {script}"
    );

    let merge = manifest("merge-job.yaml");
    assert_eq!(merge["kind"], "Job");
    assert_eq!(merge["spec"]["completions"], 1);
    assert!(merge["spec"]["backoffLimit"].as_u64().is_some());
    assert_eq!(pod_spec(&merge)["restartPolicy"], "Never");
}

#[test]
fn results_are_on_one_read_write_many_claim_mounted_alike_in_both_jobs() {
    let pvc = manifest("results-pvc.yaml");
    assert_eq!(pvc["kind"], "PersistentVolumeClaim");
    assert!(
        strings(&pvc["spec"]["accessModes"]).contains(&"ReadWriteMany".to_string()),
        "pods on different nodes write the same volume"
    );
    let claim = pvc["metadata"]["name"].as_str().expect("claim name");
    let mut paths = Vec::new();
    for file in ["shards-job.yaml", "merge-job.yaml"] {
        let job = manifest(file);
        let pod = pod_spec(&job);
        let volume = pod["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .find(|v| v["persistentVolumeClaim"]["claimName"] == claim)
            .unwrap_or_else(|| panic!("{file} does not use the claim {claim}"));
        let name = volume["name"].as_str().expect("volume name");
        let mount = container(pod)["volumeMounts"]
            .as_array()
            .expect("mounts")
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("{file} does not mount {name}"));
        assert_ne!(mount["readOnly"], true, "{file} writes the results volume");
        paths.push(mount_path(container(pod), name));
    }
    assert_eq!(paths[0], paths[1], "both Jobs see the shards at one path");
}

#[test]
fn pods_run_as_the_images_numeric_non_root_user_with_resources() {
    let dockerfile = std::fs::read_to_string(deploy_dir().join("Dockerfile")).expect("Dockerfile");
    let user = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("USER "))
        .next_back()
        .expect("the image sets a USER");
    // runAsNonRoot can only be verified by the kubelet for a numeric image user.
    let uid: u64 = user
        .split(':')
        .next()
        .and_then(|u| u.trim().parse().ok())
        .unwrap_or_else(|| panic!("USER {user} is not numeric"));
    assert_ne!(uid, 0, "the image user is not root");
    let entrypoint = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("ENTRYPOINT "))
        .expect("ENTRYPOINT");
    assert_eq!(entrypoint.trim(), r#"["deploysim"]"#);

    let mut images = Vec::new();
    for file in ["shards-job.yaml", "merge-job.yaml", "fetch-pod.yaml"] {
        let object = manifest(file);
        let pod = if object["kind"] == "Pod" {
            &object["spec"]
        } else {
            pod_spec(&object)
        };
        let security = &pod["securityContext"];
        assert_eq!(security["runAsNonRoot"], true, "{file}");
        assert_eq!(security["runAsUser"].as_u64(), Some(uid), "{file}");
        let c = container(pod);
        assert_eq!(
            c["securityContext"]["allowPrivilegeEscalation"], false,
            "{file}"
        );
        for kind in ["requests", "limits"] {
            for resource in ["cpu", "memory"] {
                assert!(
                    c["resources"][kind][resource].is_string(),
                    "{file}: resources.{kind}.{resource}"
                );
            }
        }
        images.push(c["image"].as_str().expect("image").to_string());
    }
    assert!(
        images.windows(2).all(|w| w[0] == w[1]),
        "one image: {images:?}"
    );

    // deploysim's worker threads match the CPUs the shard pod asks for.
    let shards = manifest("shards-job.yaml");
    let c = container(pod_spec(&shards));
    assert_eq!(
        c["resources"]["requests"]["cpu"].as_str(),
        Some(env_value(&env(c), "JOBS"))
    );
}

#[test]
fn every_completion_index_runs_its_shard_and_the_merge_equals_one_run() {
    let root = scratch("deploy_manifests_k8s");
    let volume = root.join("results");
    std::fs::create_dir(&volume).expect("volume dir");
    let shards = manifest("shards-job.yaml");
    let merge = manifest("merge-job.yaml");
    let n = shards["spec"]["completions"].as_u64().expect("completions");
    let shard_container = container(pod_spec(&shards));
    let shard_mount = mount_path(shard_container, "results");
    // The manifest's own settings, with a sweep small enough for a test.
    let seeds = (2 * n).to_string();
    let mut shard_env: Vec<(String, String)> = env(shard_container)
        .into_iter()
        .map(|(name, value)| match name.as_str() {
            "SEEDS" => (name, seeds.clone()),
            "RUN_OPTIONS" => (name, "--fidelity fluid".to_string()),
            _ => (name, value),
        })
        .collect();
    shard_env.push(("JOB_COMPLETION_INDEX".into(), String::new()));
    for index in 0..n {
        if let Some(last) = shard_env.last_mut() {
            last.1 = index.to_string();
        }
        let o = run_container(shard_container, &shard_env, &shard_mount, &volume);
        assert!(
            o.status.success(),
            "index {index}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // A pod killed mid-write leaves deploysim's hidden staging directory behind; the
    // merge must not pick it up.
    let staging = volume.join(".shard-0.tmp-1-0");
    std::fs::create_dir(&staging).expect("staging dir");
    for f in ["shard.json", "runs.jsonl", "runs.csv", ".deploysim"] {
        std::fs::copy(volume.join("shard-0").join(f), staging.join(f)).expect("copy");
    }

    let merge_container = container(pod_spec(&merge));
    let merge_mount = mount_path(merge_container, "results");
    let o = run_container(
        merge_container,
        &env(merge_container),
        &merge_mount,
        &volume,
    );
    assert!(
        o.status.success(),
        "merge: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    let whole = root.join("whole");
    let scenario = env_value(&shard_env, "SCENARIO");
    let o = bin()
        .args(["run", scenario, "--seeds", &seeds, "--fidelity", "fluid"])
        .args(["--quiet", "--format", "none", "--out"])
        .arg(&whole)
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for file in ["runs.csv", "summary.csv", "compare.csv"] {
        let merged = std::fs::read(volume.join("merged").join(file)).expect("merged file");
        let one = std::fs::read(whole.join(file)).expect("whole-run file");
        assert!(merged == one, "{file}: the merge differs from one run");
    }
}
