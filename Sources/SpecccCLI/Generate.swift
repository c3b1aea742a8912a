import SpecCodegen
import SpecLang

/// `speccc generate <spec> [--output <file>]`
/// `speccc generate <spec>... --output-dir <dir> [--check]`
enum Generate {
    static func run(_ args: inout Arguments, source: some SpecSource, into output: inout CommandOutput) throws {
        let file = try args.value("--output")
        let directory = try args.value("--output-dir")
        let check = args.flag("--check")
        let specs = args.remainingPositionals()
        try args.finish()
        guard !specs.isEmpty else { throw UsageError(message: "missing spec file") }
        if let directory {
            var expected: [(path: String, contents: String)] = []
            var networks: [String] = []
            for spec in specs {
                let name = Path.fileName(of: spec)
                let base = name.hasSuffix(".spec") ? String(name.dropLast(5)) : name
                let compiled = try SwiftEmitter.compile(specAt: spec, from: source)
                expected.append((directory + "/" + base + ".swift", compiled.swift))
                networks.append(compiled.network)
            }
            expected.append((directory + "/NetworkRegistry.swift", SwiftEmitter.registry(networks: networks)))
            if check {
                try compare(expected, source: source, into: &output)
            } else {
                output.files += expected
            }
            return
        }
        guard specs.count == 1 else { throw UsageError(message: "several specs need --output-dir") }
        let swift = try SwiftEmitter.generate(specAt: specs[0], from: source)
        if let file { output.files.append((file, swift)) } else { output.stdout += swift }
    }

    /// Reports every generated file that differs from the one on disk, with a line diff.
    static func compare(_ files: [(path: String, contents: String)], source: some SpecSource, into output: inout CommandOutput) throws {
        var stale = 0
        for (path, contents) in files {
            let current = (try? source.read(path)) ?? ""
            guard current != contents else { continue }
            stale += 1
            output.stderr += "\(path) is out of date:\n" + LineDiff.diff(expected: current, actual: contents)
        }
        if stale > 0 {
            output.fail("\(stale) generated file\(stale == 1 ? " is" : "s are") out of date; regenerate with the same command without --check")
        } else {
            output.stdout += "\(files.count) generated files are up to date\n"
        }
    }
}

/// `speccc registry --output <file> <spec>...`
enum Registry {
    static func run(_ args: inout Arguments, source: some SpecSource, into output: inout CommandOutput) throws {
        guard let file = try args.value("--output") else { throw UsageError(message: "missing --output <file>") }
        let specs = args.remainingPositionals()
        try args.finish()
        var networks: [(name: String, spec: String)] = []
        for spec in specs {
            let loaded = try SpecLoader.load(spec, from: source)
            let name = loaded.network
            if let other = networks.first(where: { $0.name == name }) {
                throw SpecError("network '\(name)' is also defined by \(other.spec); give each spec its own 'network' name", at: SourceLocation(file: spec, line: 1, column: 1))
            }
            networks.append((name, spec))
        }
        output.files.append((file, SwiftEmitter.registry(networks: networks.map(\.name))))
    }
}
