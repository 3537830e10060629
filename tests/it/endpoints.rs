//! Where the importer finds ClickHouse: a host list tried in order, the endpoint that answered
//! named, every endpoint refused or a name that does not resolve said in one line (exit 3).

use crate::harness::*;

#[test]
fn a_host_that_does_not_resolve_says_check_ch_host() {
    let env = TestEnv::new("dns");
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let run = env
        .importer("laptop")
        .ccusage(&bin)
        .arg("--ch-url")
        .arg("http://no-such-host.invalid:8123")
        .arg("--max-retries")
        .arg("0")
        .run();
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let line = run.stderr.lines().next().unwrap_or_default();
    assert!(
        line.starts_with(
            "ccusage-import: error: cannot reach ClickHouse at http://no-such-host.invalid:8123"
        ),
        "{line}"
    );
    assert!(line.ends_with("check CH_HOST"), "{line}");
    assert!(!dir.join("calls.log").exists());
}

#[test]
fn a_ch_host_list_is_tried_in_order_until_a_server_answers() {
    let env = TestEnv::new("hostlist");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let live = server_url().trim_start_matches("http://").to_owned();
    let dead = format!("127.0.0.1:{}", free_port());
    let mut importer = env
        .importer("laptop")
        .env("CH_HOST", format!("{dead}, {live}"))
        .ccusage(&bin)
        .arg("--color")
        .arg("never")
        .arg("--verbose");
    importer.command.env_remove("CH_URL");
    let run = importer.run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("http://{dead} cannot be reached")),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains(&format!("at http://{live}")),
        "{}",
        run.stdout
    );
    let days = env.sql("SELECT count() FROM ccusage_usage_daily FINAL");
    assert_ne!(days.trim(), "0");
}

#[test]
fn endpoints_the_first_that_answers_serves_and_verbose_names_it() {
    let env = TestEnv::new("endpoints");
    let claude = env.generate_logs("claude", SMALL);
    let dead = format!("127.0.0.1:{}", free_port());
    let live = server_url().trim_start_matches("http://").to_owned();
    let run = env
        .importer("laptop")
        .env("CH_URL", "")
        .env("CH_HOST", format!("{dead},{live}"))
        .logs(&claude)
        .arg("--verbose")
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!("moving to http://{live}")),
        "{}",
        run.stderr
    );
    let inserts: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.contains("insert") && line.contains(" ms ("))
        .collect();
    assert!(!inserts.is_empty(), "{}", run.stderr);
    for line in inserts {
        assert!(line.ends_with(&format!("(http://{live})")), "{line}");
    }
    // Every endpoint refused: exit 3, the message names the last one tried.
    let run = env
        .importer("laptop")
        .env(
            "CH_URL",
            format!("http://{dead},http://127.0.0.1:{}", free_port()),
        )
        .logs(&claude)
        .args(["--ch-deadline", "1"])
        .run();
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("cannot reach ClickHouse"),
        "{}",
        run.stderr
    );
}
