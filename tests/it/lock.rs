//! The lock that keeps one import per machine at a time: a second run refused while the first
//! runs, none left by a killed run, and a lock path that is a link, a foreign file, a directory,
//! a FIFO or a device refused without touching it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::*;

#[test]
fn a_second_run_is_refused_while_the_first_holds_the_lock_and_a_killed_run_leaves_none() {
    let env = TestEnv::new("lock");
    let (dir, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    hold_reports_until_go(&dir);
    let mut first = env
        .importer("laptop")
        .ccusage(&bin)
        .spawn(Stdio::null(), Stdio::null());
    wait_for("the first run's reports", Duration::from_secs(20), || {
        std::fs::read_to_string(dir.join("calls.log")).is_ok_and(|c| c.lines().count() >= 6)
    });
    let second = env.importer("laptop").ccusage(&bin).run();
    assert_eq!(second.code, 5, "{}{}", second.stdout, second.stderr);
    let pid = first.id();
    assert!(
        second
            .stderr
            .contains(&format!("another import is still running (pid {pid} since")),
        "{}",
        second.stderr
    );
    // A run killed outright leaves no stale lock: the kernel drops it with the process.
    first.kill().unwrap();
    first.wait().unwrap();
    std::fs::write(dir.join("go"), "").unwrap();
    let third = env.importer("laptop").ccusage(&bin).run();
    assert_eq!(third.code, 0, "{}{}", third.stdout, third.stderr);
}

/// A fresh run with the fixtures, taking the lock at `lock`.
fn run_with_lock(env: &TestEnv, lock: &Path) -> Run {
    let (_, bin) = fixture_stand_in(env, "20.0.24", "20.0.24");
    env.importer("laptop")
        .ccusage(&bin)
        .arg("--lock-file")
        .arg(lock)
        .run()
}

#[test]
fn the_lock_file_is_never_followed_through_a_link_nor_rewritten_when_foreign() {
    let env = TestEnv::new("locklink");
    let victim = env.path("precious.txt");
    std::fs::write(&victim, "precious data\n").unwrap();
    let link = env.path("import.lock");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let run = run_with_lock(&env, &link);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "the lock file {} is a symbolic link",
            link.display()
        )),
        "{}",
        run.stderr
    );
    // A link to a file that does not exist yet is not followed to create it either.
    let dangling = env.path("dangling.lock");
    let target = env.path("created-through-link");
    std::os::unix::fs::symlink(&target, &dangling).unwrap();
    let run = run_with_lock(&env, &dangling);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!target.exists(), "the link was followed");

    // A plain file that is not a lock of ours is left alone.
    let foreign = env.path("notes.txt");
    std::fs::write(&foreign, "my notes, not a lock\n").unwrap();
    let run = run_with_lock(&env, &foreign);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("holds something other than a lock"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious data\n");
    assert_eq!(
        std::fs::read_to_string(&foreign).unwrap(),
        "my notes, not a lock\n"
    );
    // Nothing was imported by the refused runs.
    let tables = sql(
        "default",
        &format!(
            "SELECT count() FROM system.tables WHERE database = '{}'",
            env.database
        ),
    );
    assert_eq!(tables.trim(), "0");
    // A lock file a previous run left is taken again.
    let own = env.path("own.lock");
    assert_eq!(run_with_lock(&env, &own).code, 0);
    assert_eq!(run_with_lock(&env, &own).code, 0);
}

#[test]
fn a_lock_path_that_is_a_directory_fifo_or_device_fails_naming_it() {
    let env = TestEnv::new("lockkind");
    let dir = env.path("a-dir");
    std::fs::create_dir(&dir).unwrap();
    let fifo = env.fifo("a-fifo");
    for (path, kind) in [
        (dir.clone(), "a directory"),
        (fifo.clone(), "a FIFO"),
        (PathBuf::from("/dev/null"), "a device"),
    ] {
        let started = Instant::now();
        let run = run_with_lock(&env, &path);
        assert_eq!(run.code, 2, "{kind}: {}", run.stderr);
        let said = format!("the lock file {} is {kind}", path.display());
        assert!(run.stderr.contains(&said), "{}", run.stderr);
        assert!(started.elapsed() < Duration::from_secs(20), "{kind} hung");
    }
}

#[test]
fn without_home_or_xdg_state_home_there_is_no_default_lock_and_nothing_lands_in_tmp() {
    let env = TestEnv::new("lockhome");
    let (_, bin) = fixture_stand_in(&env, "20.0.24", "20.0.24");
    let tmp = env.path("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut importer = env.importer("laptop").ccusage(&bin);
    importer
        .command
        .env_remove("HOME")
        .env_remove("XDG_STATE_HOME")
        .env("TMPDIR", &tmp);
    let run = importer.run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("neither HOME nor XDG_STATE_HOME is set"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--lock-file"), "{}", run.stderr);
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
}
