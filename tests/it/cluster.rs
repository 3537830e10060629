//! Cluster mode (issue 17) on a real cluster: ZooKeeper and 2 shards × 2 replicas of
//! ClickHouse 18.16 on loopback, shared by these tests one at a time, each with its own
//! database. (A list of single-server endpoints is in `endpoints.rs`.)

use std::path::PathBuf;
use std::time::Duration;

use crate::harness::*;

/// The usage tables, each holding every machine's usage on its own.
const USAGE_TABLES: [&str; 4] = [
    "ccusage_usage_daily",
    "ccusage_usage_monthly",
    "ccusage_usage_sessions",
    "ccusage_usage_projects_daily",
];

/// An importer pointed at every node of the cluster, in cluster mode.
fn cluster_importer(env: &TestEnv, cluster: &Cluster, machine: &str) -> Importer {
    env.importer(machine)
        .env("CH_URL", "")
        .env("CH_HOST", cluster.hosts())
        .env("CH_CLUSTER", CLUSTER_NAME)
}

/// Three machines with logs of their own.
fn three_machines(env: &TestEnv) -> Vec<(String, PathBuf)> {
    ["alpha", "bravo", "charlie"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let seed = (i + 11).to_string();
            let args = [
                "--projects",
                "2",
                "--days",
                "6",
                "--lines",
                "200",
                "--seed",
                &seed,
            ];
            ((*name).to_owned(), env.generate_logs(name, &args))
        })
        .collect()
}

/// Each machine's token sums, from ccusage itself.
fn want(machines: &[(String, PathBuf)]) -> Vec<(String, [u64; 4])> {
    machines
        .iter()
        .map(|(name, logs)| (name.clone(), ccusage_totals(logs).0))
        .collect()
}

/// Every usage table's FINAL token sums per machine, read through the Distributed tables at
/// node `n`, and the daily view's.
fn stored(cluster: &Cluster, n: usize, database: &str, machine: &str) -> Vec<[u64; 4]> {
    let tables = USAGE_TABLES.iter().map(|t| format!("{t} FINAL"));
    tables
        .chain(["ccusage_v_daily_summary".to_owned()])
        .map(|object| {
            let line = cluster.sql(
                n,
                database,
                &format!(
                    "SELECT sum(input_tokens), sum(output_tokens), sum(cache_creation_tokens), \
                     sum(cache_read_tokens), 0 FROM {object} WHERE machine_name = '{machine}'"
                ),
            );
            tsv_totals(&line).0
        })
        .collect()
}

fn assert_every_replica_reads(cluster: &Cluster, database: &str, want: &[(String, [u64; 4])]) {
    for n in 1..=4 {
        for (machine, tokens) in want {
            for (i, got) in stored(cluster, n, database, machine).iter().enumerate() {
                assert_eq!(got, tokens, "node {n}, machine {machine}, object {i}");
            }
        }
    }
}

/// Which shard's local tables hold a machine's daily rows, as seen on each replica.
fn shards_of(cluster: &Cluster, database: &str, machine: &str) -> Vec<usize> {
    (1..=4)
        .filter(|&n| {
            let rows = cluster.sql(
                n,
                database,
                &format!(
                    "SELECT count() FROM ccusage_usage_daily_local WHERE machine_name = '{machine}'"
                ),
            );
            rows.trim() != "0"
        })
        .collect()
}

fn rows_written(summary: &serde_json::Value) -> u64 {
    summary["tables"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap_or(0))
        .sum()
}

#[test]
fn cluster_machines_land_on_one_shard_each_and_every_replica_reads_ccusage_totals() {
    let env = TestEnv::new("cluster_totals");
    let machines = three_machines(&env);
    let want = want(&machines);
    let cluster = cluster();
    for (name, logs) in &machines {
        cluster_importer(&env, &cluster, name)
            .logs(logs)
            .import_ok();
    }
    cluster.sync_replicas(&env.database);
    for (name, _) in &machines {
        let holders = shards_of(&cluster, &env.database, name);
        assert!(
            holders == [1, 2] || holders == [3, 4],
            "{name} is held by nodes {holders:?}: a machine's rows belong on both replicas of one shard"
        );
    }
    assert_every_replica_reads(&cluster, &env.database, &want);
    let engines = cluster.sql(
        3,
        &env.database,
        "SELECT name, engine FROM system.tables WHERE database = currentDatabase() \
         AND name IN ('ccusage_usage_daily', 'ccusage_usage_daily_local') ORDER BY name",
    );
    assert_eq!(
        engines,
        "ccusage_usage_daily\tDistributed\nccusage_usage_daily_local\tReplicatedReplacingMergeTree\n"
    );

    // A re-import, through another node first, writes nothing and changes no total.
    for (name, logs) in &machines {
        let summary = cluster_importer(&env, &cluster, name)
            .env(
                "CH_HOST",
                cluster
                    .hosts()
                    .split(',')
                    .rev()
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .logs(logs)
            .import_ok();
        assert_eq!(rows_written(&summary), 0, "{name}: {summary}");
    }
    cluster.sync_replicas(&env.database);
    assert_every_replica_reads(&cluster, &env.database, &want);
}

/// The serving replica (node 1, shard 1) killed at several points of three concurrent imports:
/// at the first insert, and a moment later among the inserts. Inserts wait for two replicas
/// (insert_quorum), so a run either says `ok` with every row on the surviving replica too, or
/// fails with exit 3 naming the quorum; none says `ok` with rows only on the dead node (as
/// before). After the node returns, the failed runs import the rest, every replica reads
/// ccusage's totals, and a re-import writes nothing.
#[test]
fn cluster_a_replica_killed_mid_import_leaves_no_ok_run_on_one_node_and_loses_nothing() {
    let cluster = cluster();
    for (point, after_first_rows) in [
        ("at the first insert", Duration::ZERO),
        ("among the inserts", Duration::from_millis(700)),
    ] {
        let env = TestEnv::new("cluster_kill");
        let machines = three_machines(&env);
        let want = want(&machines);
        // The schema first, so the kill falls among the inserts (ON CLUSTER DDL waits for
        // every node).
        let empty = env.path("empty");
        std::fs::create_dir_all(empty.join("projects")).unwrap();
        cluster_importer(&env, &cluster, "nobody")
            .logs(&empty)
            .import_ok();

        let mut runs = Vec::new();
        for (name, logs) in &machines {
            // Three machines at once, each with its own lock as on its own host.
            let child = cluster_importer(&env, &cluster, name)
                .logs(logs)
                .arg("--lock-file")
                .arg(env.path(&format!("{name}.lock")))
                .args(["--json", "--verbose"])
                .spawn(std::process::Stdio::piped(), std::process::Stdio::piped());
            runs.push((name, logs, child));
        }
        // Node 1 serves the importers (the first endpoint) and is a replica of shard 1.
        wait_a_minute(
            || {
                let parts = cluster.sql(
                    1,
                    "system",
                    &format!(
                        "SELECT count() FROM system.parts WHERE database = '{}'",
                        env.database
                    ),
                );
                parts.trim() != "0"
            },
            "the first rows on node 1",
        );
        std::thread::sleep(after_first_rows);
        cluster.stop_node(1);
        let mut failed = Vec::new();
        for (name, logs, child) in runs {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            match out.status.code() {
                // An ok run's rows are on the surviving replicas, node 1 still down.
                Some(0) => {
                    let tokens = &want.iter().find(|(m, _)| m == name).unwrap().1;
                    for (i, got) in stored(&cluster, 2, &env.database, name).iter().enumerate() {
                        assert_eq!(got, tokens, "{point}: {name} said ok, object {i}");
                    }
                }
                Some(3) => {
                    assert!(
                        stderr.contains("insert_quorum"),
                        "{point}: {name}: {stderr}"
                    );
                    failed.push((name, logs));
                }
                other => panic!("{point}: {name} exited {other:?}: {stderr}"),
            }
        }
        cluster.start_node(1);
        wait_until_answers(&cluster.urls[0]);
        for (name, logs) in failed {
            cluster_importer(&env, &cluster, name)
                .logs(logs)
                .import_ok();
        }
        cluster.sync_replicas(&env.database);
        assert_every_replica_reads(&cluster, &env.database, &want);
        // A re-import finds everything stored.
        for (name, logs) in &machines {
            let summary = cluster_importer(&env, &cluster, name)
                .logs(logs)
                .import_ok();
            assert_eq!(rows_written(&summary), 0, "{point}: {name}: {summary}");
        }
    }
}

#[test]
fn cluster_without_zookeeper_fails_with_exit_3_naming_it_and_the_next_run_imports_everything() {
    let env = TestEnv::new("cluster_zk");
    let machines = three_machines(&env);
    let want = want(&machines);
    let cluster = cluster();
    let (first, first_logs) = &machines[0];
    cluster_importer(&env, &cluster, first)
        .logs(first_logs)
        .import_ok();
    cluster.sync_replicas(&env.database);
    let before = stored(&cluster, 2, &env.database, first);

    cluster.stop_zookeeper();
    let (second, second_logs) = &machines[1];
    let run = cluster_importer(&env, &cluster, second)
        .logs(second_logs)
        .args(["--ch-deadline", "3", "--retry-delay", "200"])
        .run();
    cluster.start_zookeeper();
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let error = run
        .stderr
        .lines()
        .find(|line| line.starts_with("ccusage-import: error: "))
        .unwrap_or_else(|| panic!("no error line: {}", run.stderr));
    assert!(error.contains("ZooKeeper"), "{error}");
    // What was stored before is intact.
    assert_eq!(stored(&cluster, 2, &env.database, first), before);

    // ZooKeeper is back: the next runs import everything.
    wait_until_writable(&cluster, &env.database);
    for (name, logs) in &machines {
        cluster_importer(&env, &cluster, name)
            .logs(logs)
            .import_ok();
    }
    cluster.sync_replicas(&env.database);
    assert_every_replica_reads(&cluster, &env.database, &want);
}

#[test]
fn cluster_a_column_new_in_the_schema_reaches_every_replica() {
    let env = TestEnv::new("cluster_column");
    let machines = three_machines(&env);
    let cluster = cluster();
    let (name, logs) = &machines[0];
    cluster_importer(&env, &cluster, name)
        .logs(logs)
        .import_ok();
    // As a database made before projected_remaining_minutes was in sql/schema.sql.
    cluster.sql(
        1,
        &env.database,
        &format!(
            "ALTER TABLE ccusage_usage_blocks_local ON CLUSTER {CLUSTER_NAME} \
             DROP COLUMN projected_remaining_minutes"
        ),
    );
    // 18.16 takes no ALTER ON CLUSTER for a Distributed table: node by node.
    for n in 1..=4 {
        cluster.sql(
            n,
            &env.database,
            "ALTER TABLE ccusage_usage_blocks DROP COLUMN projected_remaining_minutes",
        );
    }
    let has_column = |n: usize| {
        cluster
            .sql(
                n,
                &env.database,
                "SELECT count() FROM system.columns WHERE database = currentDatabase() \
                 AND name = 'projected_remaining_minutes' \
                 AND table IN ('ccusage_usage_blocks', 'ccusage_usage_blocks_local')",
            )
            .trim()
            .to_owned()
    };
    wait_a_minute(
        || (1..=4).all(|n| has_column(n) == "0"),
        "the column to be gone",
    );
    let run = cluster_importer(&env, &cluster, name)
        .logs(logs)
        .arg("--verbose")
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("add column projected_remaining_minutes to ccusage_usage_blocks_local"),
        "{}",
        run.stderr
    );
    // Both tables on every node, the local one replicated by ZooKeeper.
    wait_a_minute(
        || (1..=4).all(|n| has_column(n) == "2"),
        "the column on every replica",
    );
}

#[test]
fn cluster_verify_names_a_replica_lacking_a_table_or_holding_another_column_type() {
    let env = TestEnv::new("cluster_verify");
    let cluster = cluster();
    let empty = env.path("empty");
    std::fs::create_dir_all(empty.join("projects")).unwrap();
    cluster_importer(&env, &cluster, "nobody")
        .logs(&empty)
        .import_ok();
    let verify = || {
        cluster_importer(&env, &cluster, "nobody")
            .logs(&empty)
            .arg("--verify")
            .run()
    };
    let run = verify();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // Node 4 loses a table; node 3's copy of another has a column of another type.
    cluster.sql(4, &env.database, "DROP TABLE ccusage_usage_blocks");
    cluster.sql(
        3,
        &env.database,
        "ALTER TABLE ccusage_machines MODIFY COLUMN ccusage_version Nullable(String)",
    );
    let run = verify();
    assert_ne!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let line_of = |needle: &str| {
        run.stdout
            .lines()
            .find(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?}:\n{}", run.stdout))
            .to_owned()
    };
    let lacking = line_of("table ccusage_usage_blocks: missing");
    assert!(
        lacking.contains(&format!("replica {}", cluster.urls[3])),
        "{lacking}"
    );
    let other = line_of("ccusage_version is Nullable(String)");
    assert!(
        other.contains(&format!("replica {}", cluster.urls[2])),
        "{other}"
    );
    // The replicas left alone pass.
    for url in &cluster.urls[..2] {
        assert!(!line_of(&format!("replica {url}")).contains("missing"));
    }
}

#[test]
fn cluster_a_single_server_database_moves_into_the_cluster_whole_and_once() {
    let env = TestEnv::new("cluster_move");
    let machines = three_machines(&env);
    let want = want(&machines[..2]);
    let single = PrivateServer::start(env.path("single"));
    for (name, logs) in &machines[..2] {
        env.importer(name)
            .env("CH_URL", single.url())
            .logs(logs)
            .import_ok();
    }
    let cluster = cluster();
    // The cluster schema, from a run of the third machine.
    let (third, third_logs) = &machines[2];
    cluster_importer(&env, &cluster, third)
        .logs(third_logs)
        .import_ok();
    let mv = || {
        let out = std::process::Command::new("bash")
            .arg(std::path::Path::new(ROOT).join("scripts/move-to-cluster.sh"))
            .args(["--from", &format!("127.0.0.1:{}", single.tcp_port)])
            .args(["--from-database", &env.database, "--cluster", CLUSTER_NAME])
            .args(["--to", &cluster.urls[1]])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        stderr
    };
    let said = mv();
    assert!(said.contains("ccusage_usage_daily: "), "{said}");
    assert!(!said.contains("skipped"), "{said}");
    // Twice: nothing doubles.
    mv();
    cluster.sync_replicas(&env.database);
    assert_every_replica_reads(&cluster, &env.database, &want);
    let runs = cluster.sql(
        4,
        &env.database,
        "SELECT count() FROM ccusage_import_runs WHERE machine_name IN ('alpha', 'bravo')",
    );
    assert_eq!(runs.trim(), "2");
    // The moved machines find everything stored when they switch to the cluster.
    for (name, logs) in &machines[..2] {
        let summary = cluster_importer(&env, &cluster, name)
            .logs(logs)
            .import_ok();
        assert_eq!(rows_written(&summary), 0, "{name}: {summary}");
    }
}

/// A cluster takes its time: replication, a restarted node, ZooKeeper's sessions.
fn wait_a_minute(ok: impl FnMut() -> bool, what: &str) {
    wait_for(what, Duration::from_secs(60), ok);
}

fn wait_until_answers(url: &str) {
    wait_a_minute(
        || {
            std::process::Command::new("curl")
                .args(["-fsS", &format!("{url}/?query=SELECT%201")])
                .output()
                .is_ok_and(|o| o.status.success())
        },
        url,
    );
}

/// After ZooKeeper returns, replicated tables leave read-only once their session is back.
fn wait_until_writable(cluster: &Cluster, database: &str) {
    wait_a_minute(
        || {
            (1..=4).all(|n| {
                cluster
                    .sql(
                        n,
                        "system",
                        &format!(
                            "SELECT count() FROM system.replicas WHERE database = '{database}' \
                             AND is_readonly"
                        ),
                    )
                    .trim()
                    == "0"
            })
        },
        "replicas to leave read-only mode",
    );
}
