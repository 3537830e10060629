//! Signals and the reports' processes: every stop signal ends the import and every report it
//! started, grandchildren included, with the shell's exit code; SIGKILL takes the reports along;
//! a report leaving a grandchild on its stdout is judged by its own exit.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use crate::harness::*;

/// Each stop signal ends a run whose daily report hangs with a grandchild: the importer exits
/// with the shell's code for the signal (128 + its number) and says so, and the report and its
/// grandchild are gone within 5 s. Each case runs in a database of its own.
fn assert_signals_end_every_report(name: &str, cases: &[(&str, i32)]) {
    for &(signal, code) in cases {
        let env = TestEnv::new(name);
        let (child, dir) = start_hung_run(&env);
        let sent = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(sent.success(), "SIG{signal}: kill failed");
        let Run {
            code: exit, stderr, ..
        } = finished(child);
        assert_eq!(exit, code, "SIG{signal}: {stderr}");
        assert!(
            stderr.contains("stopped by a signal"),
            "SIG{signal}: {stderr}"
        );
        for pid_file in ["script.pid", "grandchild.pid"] {
            let pid = read_pid(&dir.join(pid_file));
            assert!(
                ends_within(pid, Duration::from_secs(5)),
                "SIG{signal}: {pid_file} {pid} still runs"
            );
        }
    }
}

#[test]
fn ctrl_c_or_sigterm_kills_every_report_and_exits_130_or_143() {
    assert_signals_end_every_report("signal", &[("INT", 130), ("TERM", 143)]);
}

#[test]
fn hup_usr1_and_alrm_end_every_report_too() {
    assert_signals_end_every_report("signal2", &[("HUP", 129), ("USR1", 138), ("ALRM", 142)]);
}

/// Starts a run whose daily report hangs (with a grandchild), and waits until it runs.
fn start_hung_run(env: &TestEnv) -> (std::process::Child, PathBuf) {
    let (dir, bin) = fixture_stand_in(env, "20.0.24", "20.0.24");
    script_report(&dir, "daily", HUNG_WITH_GRANDCHILD);
    let child = env
        .importer("laptop")
        .ccusage(&bin)
        .spawn(Stdio::null(), Stdio::piped());
    wait_for("the hung report", Duration::from_secs(20), || {
        dir.join("script.pid").exists() && dir.join("grandchild.pid").exists()
    });
    (child, dir)
}

#[test]
fn a_report_dies_when_the_importer_is_killed_with_sigkill() {
    let env = TestEnv::new("pdeath");
    let (mut child, dir) = start_hung_run(&env);
    child.kill().unwrap();
    child.wait().unwrap();
    let pid = read_pid(&dir.join("script.pid"));
    assert!(
        ends_within(pid, Duration::from_secs(5)),
        "the report {pid} outlived the importer"
    );
    // What the report started itself is its own business once it is gone: end it here.
    let grandchild = read_pid(&dir.join("grandchild.pid"));
    let _ = std::process::Command::new("kill")
        .arg(grandchild.to_string())
        .status();
}

#[test]
fn a_report_that_leaves_a_grandchild_holding_stdout_is_judged_by_its_exit() {
    for (exit, code) in [(0, 0), (3, 4)] {
        let env = TestEnv::new("grandchild");
        let (dir, run, took) = run_daily_script(
            &env,
            &format!(
                "cat \"$D/daily.json\"\nsleep 120 &\necho $! > \"$D/grandchild.pid\"\nexit {exit}"
            ),
        );
        assert_eq!(run.code, code, "{}", run.stderr);
        assert!(took < Duration::from_secs(20), "{took:?}");
        assert!(!run.stderr.contains("timed out"), "{}", run.stderr);
        if exit == 0 {
            let days = env.sql("SELECT count() FROM ccusage_usage_daily FINAL");
            assert_ne!(days.trim(), "0");
        } else {
            assert!(
                run.stderr
                    .contains("daily report failed: exited with code 3"),
                "{}",
                run.stderr
            );
        }
        let grandchild = read_pid(&dir.join("grandchild.pid"));
        assert!(ends_within(grandchild, Duration::from_secs(5)));
    }
}
