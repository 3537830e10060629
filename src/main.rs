//! ccusage-import: ccusage reports → rows → ClickHouse → summary. The program lives in the
//! library; see `src/lib.rs`.

fn main() -> std::process::ExitCode {
    ccusage_import::app::main()
}
