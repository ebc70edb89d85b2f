mod allocator;

fn main() -> std::process::ExitCode {
    // Huge pages speed a one-shot check; the language server lives for hours, and gives
    // back what a check freed instead.
    match std::env::args_os().nth(1) {
        Some(command) if command == "lsp" => allocator::give_memory_back(),
        Some(command) if command == "serve" => allocator::use_huge_pages_only(),
        _ => allocator::use_huge_pages(),
    }
    agentc::cli::main()
}
