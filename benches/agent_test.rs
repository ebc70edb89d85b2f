//! `agentc test` speed: 1,000 scenario tests (HTTP mocks, several events and expectations
//! each) in under 2 s on this machine: `cargo bench --bench agent_test`. Measures the runner
//! on an already checked program (the command adds parsing and checking, measured apart).
//! It also writes the program to `target/bench/scenarios_1000.agent`, so that the whole
//! command can be timed: `time target/release/agentc test target/bench/scenarios_1000.agent`.

use agentc::check::{check_program, MemoryLoader};
use agentc::diagnostics::SourceMap;
use agentc::testing::{self, Case};
use agentc_gen::scenarios;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const TESTS: usize = 1_000;

fn thousand_scenarios(c: &mut Criterion) {
    let source = scenarios::program(TESTS);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("scenarios_1000.agent"), &source).unwrap();
    let mut sources = SourceMap::new();
    let root = sources.add("shop.agent", source.as_str());
    let checked = check_program(&mut sources, root, &mut MemoryLoader::new());
    let program = checked.program.expect("the scenario program checks");
    let cases = Case::all(program);
    assert_eq!(cases.len(), TESTS);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    let mut group = c.benchmark_group("agent_test");
    group.sample_size(10);
    group.throughput(Throughput::Elements(TESTS as u64));
    group.bench_function("run_1000_scenarios", |b| {
        b.iter(|| {
            let mut failed = 0;
            runtime.block_on(testing::run_all(&cases, |_, outcome| {
                failed += usize::from(!outcome.passed());
            }));
            assert_eq!(failed, 0);
        })
    });
    group.bench_function("check_1000_scenarios", |b| {
        b.iter(|| {
            let mut sources = SourceMap::new();
            let root = sources.add("shop.agent", source.as_str());
            check_program(&mut sources, root, &mut MemoryLoader::new())
        })
    });
    group.finish();
}

criterion_group!(benches, thousand_scenarios);
criterion_main!(benches);
