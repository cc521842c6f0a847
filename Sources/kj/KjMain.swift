import KjCLI

/// The `kj` executable: everything lives in `KjCLI`, so tests can parse and run commands.
@main
enum KjMain {
    static func main() async {
        await Kj.main()
    }
}
