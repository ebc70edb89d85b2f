//! `agentc fmt` speed on a generated 10 MB program (the target is at least 20 MB/s):
//! `cargo bench --bench fmt`. Measures parse + layout (what the command does per file)
//! and the layout alone.

#[path = "../src/allocator.rs"]
mod allocator;

use agentc::diagnostics::FileId;
use agentc_gen::layout as gen;
use criterion::{criterion_group, Criterion, Throughput};

const SIZE: usize = 10 * 1024 * 1024;

fn fmt_10mb(c: &mut Criterion) {
    let source = gen::Gen::program_of_size(7, SIZE);
    let parsed = agentc::syntax::parse(FileId(0), &source);
    assert!(
        parsed.diagnostics.is_empty(),
        "{:?}",
        &parsed.diagnostics[..1]
    );
    let mut group = c.benchmark_group("fmt");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(source.len() as u64));
    group.bench_function("parse_and_format_10mb", |b| {
        b.iter(|| agentc::fmt::format_source(FileId(0), &source).unwrap())
    });
    group.bench_function("format_only_10mb", |b| {
        b.iter(|| agentc::fmt::format_file(&parsed.file, &source))
    });
    group.finish();
}

criterion_group!(benches, fmt_10mb);

fn main() {
    allocator::use_huge_pages();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
