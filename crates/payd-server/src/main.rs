//! The `payd` command. Everything lives in the library; this only hands over.

fn main() -> std::process::ExitCode {
    payd_server::cli::main()
}
