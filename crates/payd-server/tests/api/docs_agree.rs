//! The documentation holds to the code, checked mechanically so that a code, a command or a
//! route added anywhere fails here until it is documented: the error tables in docs/api/*.md
//! against every code of the one error-code enum (`http::code::Code`), and the README's
//! command list against the commands the `payd` binary has.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use payd_server::http::code::{Code, Reach};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `(status, code)` an API can answer by payd's name, from the one code enum: the
/// native API's, or those only the dialects use.
fn source_codes(reach: Reach) -> BTreeMap<String, BTreeSet<u16>> {
    let mut codes: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
    for code in Code::ALL.iter().filter(|c| c.reach() == reach) {
        codes.entry(code.as_str().to_owned()).or_default().insert(code.status().as_u16());
    }
    codes
}

/// The `| status | codes |` rows of docs/api/native.md's `## Errors` section, or of the whole
/// of another document.
fn documented_codes(doc: &str) -> BTreeMap<String, BTreeSet<u16>> {
    let text = std::fs::read_to_string(repo().join("docs/api").join(doc)).unwrap();
    let section = match text.split("\n## Errors").nth(1) {
        Some(errors) => errors.split("\n## ").next().unwrap().to_owned(),
        None => text,
    };
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

/// Holds one document's tables to the codes of `reach`: each under each of its statuses, and
/// nothing that the enum does not have.
fn check_table(doc: &str, reach: Reach) {
    let source = source_codes(reach);
    let documented = documented_codes(doc);
    let mut missing = Vec::new();
    for (code, statuses) in &source {
        for s in statuses {
            if !documented.get(code).is_some_and(|d| d.contains(s)) {
                missing.push(format!("{s} `{code}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "answered by the server but not in docs/api/{doc}'s error table: {missing:?}"
    );
    let stale: Vec<String> = documented
        .iter()
        .flat_map(|(c, ss)| ss.iter().map(move |s| (c, s)))
        .filter(|(c, s)| !source.get(*c).is_some_and(|ss| ss.contains(s)))
        .map(|(c, s)| format!("{s} `{c}`"))
        .collect();
    assert!(stale.is_empty(), "in docs/api/{doc}'s error table but answered nowhere: {stale:?}");
}

#[test]
fn the_native_error_table_lists_every_code_the_server_emits() {
    let source = source_codes(Reach::Native);
    // A sanity check of the enum's reach.
    for known in ["not_found", "invalid_api_key", "amount_too_precise", "internal_error", "url_not_allowed"] {
        assert!(source.contains_key(known), "{known} is not a native code: {source:?}");
    }
    check_table("native.md", Reach::Native);
}

#[test]
fn every_code_only_the_dialects_use_is_documented() {
    check_table("dialect-codes.md", Reach::Dialects);
    // Every code of the enum is in one table or the other.
    let all: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    let documented: BTreeSet<String> = documented_codes("native.md")
        .into_keys()
        .chain(documented_codes("dialect-codes.md").into_keys())
        .collect();
    let undocumented: Vec<&&str> = all.iter().filter(|c| !documented.contains(**c)).collect();
    assert!(undocumented.is_empty(), "{undocumented:?}");
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
