//! The `chexlocalize` command; everything is in the library (`chexlocalize_cli`).

fn main() -> std::process::ExitCode {
    chexlocalize_cli::main()
}
