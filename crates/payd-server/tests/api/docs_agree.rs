//! The documentation holds to the code, checked mechanically so that a code, a command or a
//! route added anywhere fails here until it is documented: the native error table in
//! docs/api/native.md against every error code the server's source can emit, and the
//! README's command list against the commands the `payd` binary has.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without comments (string literals kept as they are).
fn strip_comments(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str(&src[start..i.min(b.len())]);
            }
            // A char literal such as '"' (a lifetime has no closing quote two or three on).
            b'\''
                if b.get(i + 2) == Some(&b'\'')
                    || (b.get(i + 1) == Some(&b'\\') && b.get(i + 3) == Some(&b'\'')) =>
            {
                let len = if b.get(i + 1) == Some(&b'\\') { 4 } else { 3 };
                out.push_str(&src[i..i + len]);
                i += len;
            }
            _ => {
                let c = src[i..].chars().next().unwrap();
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// The arguments of the call whose `(` is at `open`, split at top-level commas.
fn call_args(src: &str, open: usize) -> Vec<String> {
    let b = src.as_bytes();
    let (mut depth, mut i, mut start, mut args) = (0usize, open, open + 1, Vec::new());
    while i < b.len() {
        match b[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    args.push(src[start..i].trim().to_owned());
                    return args;
                }
            }
            b',' if depth == 1 => {
                args.push(src[start..i].trim().to_owned());
                start = i + 1;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            _ => {}
        }
        i += 1;
    }
    panic!("unclosed call at byte {open}");
}

fn status_number(arg: &str) -> Option<u16> {
    let name = arg.strip_prefix("StatusCode::").or_else(|| arg.strip_prefix("axum::http::StatusCode::"))?;
    Some(match name {
        "BAD_REQUEST" => 400,
        "UNAUTHORIZED" => 401,
        "FORBIDDEN" => 403,
        "NOT_FOUND" => 404,
        "METHOD_NOT_ALLOWED" => 405,
        "REQUEST_TIMEOUT" => 408,
        "CONFLICT" => 409,
        "GONE" => 410,
        "PAYLOAD_TOO_LARGE" => 413,
        "UNSUPPORTED_MEDIA_TYPE" => 415,
        "UNPROCESSABLE_ENTITY" => 422,
        "TOO_MANY_REQUESTS" => 429,
        "INTERNAL_SERVER_ERROR" => 500,
        "BAD_GATEWAY" => 502,
        "SERVICE_UNAVAILABLE" => 503,
        "GATEWAY_TIMEOUT" => 504,
        other => panic!("add StatusCode::{other} to status_number"),
    })
}

/// Every `(status, code)` the native API can answer: each `ApiError::new(status, "code", …)`
/// and `ApiError::bad_request("code", …)` in the server outside the dialects (which answer
/// in their own formats). A code that is not a literal at its call cannot be read here, so
/// it fails the test rather than go unchecked.
fn source_codes() -> BTreeMap<String, BTreeSet<u16>> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut codes: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
    for file in files.iter().filter(|f| !f.starts_with(src.join("http/dialects"))) {
        let text = strip_comments(&std::fs::read_to_string(file).unwrap());
        let in_error_rs = file.ends_with("http/error.rs");
        for (call, code_at) in [
            ("ApiError::new(", 1),
            ("Self::new(", 1),
            ("ApiError::bad_request(", 0),
            ("Self::bad_request(", 0),
        ] {
            if call.starts_with("Self") && !in_error_rs {
                continue;
            }
            for (at, _) in text.match_indices(call) {
                let args = call_args(&text, at + call.len() - 1);
                let arg = &args[code_at];
                let line = text[..at].lines().count();
                if in_error_rs && arg == "code" {
                    continue; // the constructors passing their parameter on
                }
                let code = arg.strip_prefix('"').and_then(|a| a.strip_suffix('"')).unwrap_or_else(|| {
                    panic!(
                        "{}:{line}: write the error code as a literal at the call, not `{arg}`",
                        file.display()
                    )
                });
                let status = if code_at == 0 { Some(400) } else { status_number(&args[0]) };
                let entry = codes.entry(code.to_owned()).or_default();
                if let Some(s) = status {
                    entry.insert(s);
                }
            }
        }
    }
    codes
}

/// The `| status | codes |` rows under `## Errors` in docs/api/native.md.
fn documented_codes() -> BTreeMap<String, BTreeSet<u16>> {
    let doc = std::fs::read_to_string(repo().join("docs/api/native.md")).unwrap();
    let section = doc.split("\n## Errors").nth(1).expect("an Errors section");
    let section = section.split("\n## ").next().unwrap();
    let mut codes: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Ok(status) = cells[1].parse::<u16>() else { continue };
        // Codes are snake_case; other quoted words in a row (a setting, a header) are notes.
        let is_code =
            |c: &&str| c.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
        for code in cells[2].split('`').skip(1).step_by(2).filter(is_code) {
            codes.entry(code.to_owned()).or_default().insert(status);
        }
    }
    codes
}

#[test]
fn the_native_error_table_lists_every_code_the_server_emits() {
    let source = source_codes();
    let documented = documented_codes();
    // A sanity check of the scanner itself.
    for known in ["not_found", "invalid_api_key", "amount_too_precise", "internal_error", "url_not_allowed"] {
        assert!(source.contains_key(known), "the scanner missed {known}: {source:?}");
    }
    let mut missing = Vec::new();
    for (code, statuses) in &source {
        for s in statuses {
            if !documented.get(code).is_some_and(|d| d.contains(s)) {
                missing.push(format!("{s} `{code}`"));
            }
        }
        if statuses.is_empty() && !documented.contains_key(code) {
            missing.push(format!("`{code}`"));
        }
    }
    assert!(
        missing.is_empty(),
        "emitted by the server but not in docs/api/native.md's error table: {missing:?}"
    );
    let stale: Vec<&String> = documented.keys().filter(|c| !source.contains_key(*c)).collect();
    assert!(stale.is_empty(), "in docs/api/native.md's error table but emitted nowhere: {stale:?}");
}

/// The subcommands `payd <path> --help` lists.
fn subcommands(path: &[&str]) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_payd")).args(path).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let Some(list) = help.split("Commands:\n").nth(1) else { return Vec::new() };
    list.lines()
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_readme_lists_every_command() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let section = readme.split("## The `payd` command").nth(1).expect("the README's command section");
    let block = section.split("```").nth(1).expect("a code block of commands");
    let mut commands = Vec::new();
    for top in subcommands(&[]) {
        let subs = subcommands(&[top.as_str()]);
        if subs.is_empty() {
            commands.push(top);
        } else {
            commands.extend(subs.into_iter().map(|s| format!("{top} {s}")));
        }
    }
    assert!(commands.len() > 10, "{commands:?}");
    let missing: Vec<&String> = commands.iter().filter(|c| !block.contains(&format!("payd {c}"))).collect();
    assert!(missing.is_empty(), "commands the README does not list: {missing:?}");
}
