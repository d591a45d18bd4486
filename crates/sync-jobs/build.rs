//! Build identity for the report (docs/behaviour.md §8): the git commit the binary is built from,
//! `SYNC_GIT_COMMIT` or GitLab's `CI_COMMIT_SHA` when set (a release job's image may have no
//! git), else `git rev-parse HEAD` when git and a repository are there, else `unknown`.
//! Never fails the build.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn main() {
    let from_env = ["SYNC_GIT_COMMIT", "CI_COMMIT_SHA"]
        .iter()
        .find_map(|name| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_hexdigit()))
        });
    let commit = from_env
        .or_else(|| git(&["rev-parse", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=SYNC_GIT_COMMIT={commit}");
    println!("cargo:rerun-if-env-changed=SYNC_GIT_COMMIT");
    println!("cargo:rerun-if-env-changed=CI_COMMIT_SHA");
    // Rebuild when HEAD moves: the HEAD file, the branch it points to, packed refs.
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for path in watched {
        if let Some(p) = git(&["rev-parse", "--path-format=absolute", "--git-path", &path]) {
            if std::path::Path::new(&p).exists() {
                println!("cargo:rerun-if-changed={p}");
            }
        }
    }
}
