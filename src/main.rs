fn main() -> std::process::ExitCode {
    deploysim::cli::main()
}
