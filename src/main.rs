mod allocator;

fn main() -> std::process::ExitCode {
    allocator::use_huge_pages();
    agentc::cli::main()
}
