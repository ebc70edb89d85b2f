/// mimalloc: the front end makes and frees millions of small tree nodes, and glibc's
/// allocator spends a fifth of a large check on that (measured with `check_speed`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    agentc::cli::main()
}
