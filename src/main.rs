fn main() -> std::process::ExitCode {
    agentc::cli::main()
}
