//! The front end's speed: parse + check + lower on a generated ~10 MB program (target:
//! ≥ 30 MB/s), next to serde_json parsing the same program's IR JSON; the same on a ~10 MB
//! program of each shape of `agentc_gen::shapes` (group `shapes`: expression-heavy,
//! binding-heavy, hundreds of imported files); and the check of a typical ~20 KB program,
//! in process and as a whole `agentc check` process.
//!
//! Run with `cargo bench --bench pipeline`. After criterion's report it prints a summary
//! with the throughput, the ratio to serde_json and the process wall time.
//!
//! The figures the issue asks for per shape — `agentc check` wall time, MB/s and peak RSS
//! as a multiple of the source (target: ≤ 15×) — come from the release binary:
//! `cargo build --release && cargo run --release --example check_speed` (it writes the
//! programs under `target/bench/`).

use agentc::check::{check_program, Checked, LoadError, Loader, MemoryLoader};
use agentc::diagnostics::{FileId, SourceMap};
use agentc::{ir, syntax};
use criterion::{BatchSize, Criterion, Throughput};
use std::hint::black_box;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../src/allocator.rs"]
mod allocator;

use agentc_gen::programs as generate;
use agentc_gen::shapes::{Shape, SHAPES};

const LARGE: usize = 10 * 1024 * 1024;
const TYPICAL: usize = 20 * 1024;

/// Generated programs are one file: any import is a bug in the generator.
struct NoImports;

impl Loader for NoImports {
    fn load(&mut self, path: &str) -> Result<String, LoadError> {
        Err(format!("{path}: generated programs import nothing").into())
    }
}

fn sources(text: &str) -> (SourceMap, FileId) {
    let mut sources = SourceMap::new();
    let root = sources.add("generated.agent", text.to_owned());
    (sources, root)
}

fn check((mut sources, root): (SourceMap, FileId)) -> Checked {
    check_program(&mut sources, root, &mut NoImports)
}

fn check_files(
    ((mut sources, root), mut imported): ((SourceMap, FileId), MemoryLoader),
) -> Checked {
    check_program(&mut sources, root, &mut imported)
}

/// Insists a check of a generated program (`what`) is clean: measuring a pipeline that
/// stopped at the first error would flatter it.
fn clean(checked: Checked, what: &str) -> ir::Program {
    if let Some(d) = checked.diagnostics.first() {
        panic!(
            "the {what} program is not clean ({} diagnostics); first: {} {} at {:?}",
            checked.diagnostics.len(),
            d.code,
            d.message,
            d.span()
        );
    }
    checked
        .program
        .expect("a program without diagnostics lowers to IR")
}

/// A program of several files: the root in a source map, the rest behind a loader.
struct Files {
    root: String,
    imported: MemoryLoader,
    bytes: usize,
}

impl Files {
    fn of(shape: Shape) -> Files {
        let files = shape.files(LARGE);
        let bytes = files.iter().map(|(_, text)| text.len()).sum();
        let mut files = files.into_iter();
        let (_, root) = files.next().expect("a root file");
        let imported = files.fold(MemoryLoader::new(), |loader, (path, text)| {
            loader.with(&path, &text)
        });
        Files {
            root,
            imported,
            bytes,
        }
    }

    /// What one check starts from (copies of the text, which the check takes over).
    fn input(&self) -> ((SourceMap, FileId), MemoryLoader) {
        (sources(&self.root), self.imported.clone())
    }

    fn check(&self) -> Checked {
        check_files(self.input())
    }
}

fn bench_shapes(c: &mut Criterion, shapes: &[(Shape, Files)]) {
    let mut group = c.benchmark_group("shapes");
    for (shape, files) in shapes {
        group.throughput(Throughput::Bytes(files.bytes as u64));
        group.bench_function(format!("parse+check+lower/{}/10MB", shape.name()), |b| {
            b.iter_batched(|| files.input(), check_files, BatchSize::PerIteration)
        });
    }
    group.finish();
}

fn bench(c: &mut Criterion, large: &str, ir_json: &str, typical: &str) {
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Bytes(large.len() as u64));
    group.bench_function("parse/10MB", |b| {
        b.iter(|| syntax::parse(FileId(0), black_box(large)))
    });
    group.bench_function("parse+check+lower/10MB", |b| {
        b.iter_batched(|| sources(large), check, BatchSize::PerIteration)
    });
    group.throughput(Throughput::Bytes(ir_json.len() as u64));
    group.bench_function("serde_json IR/10MB program", |b| {
        b.iter(|| serde_json::from_str::<ir::Program>(black_box(ir_json)).unwrap())
    });
    group.finish();

    let mut group = c.benchmark_group("check");
    group.throughput(Throughput::Bytes(typical.len() as u64));
    group.bench_function("typical/20KB", |b| {
        b.iter_batched(|| sources(typical), check, BatchSize::SmallInput)
    });
    group.finish();
}

/// The median wall time of `runs` calls of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn mb_per_s(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / time.as_secs_f64()
}

/// `agentc check FILE` as a user runs it: process start included.
fn process_check_time(typical: &str) -> Duration {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("typical.agent");
    std::fs::write(&file, typical).expect("write the typical program");
    let run = || {
        let status = Command::new(env!("CARGO_BIN_EXE_agentc"))
            .arg("check")
            .arg(&file)
            .stdout(Stdio::null())
            .status()
            .expect("run agentc");
        assert!(
            status.success(),
            "agentc check failed on the typical program"
        );
    };
    run(); // warm the page cache
    median(21, run)
}

fn summary(large: &str, ir_json: &str, typical: &str) {
    let pipeline = median(5, || {
        black_box(check(sources(large)));
    });
    let json = median(5, || {
        black_box(serde_json::from_str::<ir::Program>(ir_json).unwrap());
    });
    println!("\nsummary (medians):");
    println!(
        "  parse+check+lower  {:>8.1} ms  {:>6.1} MB/s of source ({:.1} MB)",
        pipeline.as_secs_f64() * 1e3,
        mb_per_s(large.len(), pipeline),
        large.len() as f64 / (1024.0 * 1024.0)
    );
    println!(
        "  serde_json IR      {:>8.1} ms  {:>6.1} MB/s of JSON ({:.1} MB)",
        json.as_secs_f64() * 1e3,
        mb_per_s(ir_json.len(), json),
        ir_json.len() as f64 / (1024.0 * 1024.0)
    );
    println!(
        "  ratio              pipeline takes {:.2}× the time serde_json takes on the IR",
        pipeline.as_secs_f64() / json.as_secs_f64()
    );
    let process = process_check_time(typical);
    println!(
        "  agentc check {:.0} KB  {:>6.2} ms wall, process start included",
        typical.len() as f64 / 1024.0,
        process.as_secs_f64() * 1e3
    );
}

fn main() {
    allocator::use_huge_pages();
    let large = generate::program(LARGE);
    let typical = generate::program(TYPICAL);
    let program = clean(check(sources(&large)), "generated");
    clean(check(sources(&typical)), "typical");
    let shapes: Vec<(Shape, Files)> = SHAPES
        .iter()
        .map(|shape| (*shape, Files::of(*shape)))
        .collect();
    for (shape, files) in &shapes {
        clean(files.check(), shape.name());
    }
    let ir_json = serde_json::to_string(&program).expect("the IR serializes");

    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    bench(&mut criterion, &large, &ir_json, &typical);
    bench_shapes(&mut criterion, &shapes);
    criterion.final_summary();
    // `cargo test --benches` runs each bench once as a smoke test: no summary then.
    if std::env::args().any(|arg| arg == "--bench") {
        summary(&large, &ir_json, &typical);
    }
}
