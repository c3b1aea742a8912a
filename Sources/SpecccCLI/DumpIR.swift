import SpecIR
import SpecLang
import SpecPasses

/// `speccc dump-ir <spec> [--after <pass>] [--format text|json|dot]`
enum DumpIR {
    static func run(_ args: inout Arguments, source: some SpecSource, into output: inout CommandOutput) throws {
        let after = try args.value("--after")
        let formatName = try args.value("--format") ?? "text"
        guard let format = GraphPrinter.Format(rawValue: formatName) else {
            throw UsageError(message: "unknown format '\(formatName)' (text, json, dot)")
        }
        let spec = try args.positional("spec file")
        try args.finish()
        var graph = try Lowering.lower(specAt: spec, from: source)
        if let after { try Pipeline.run(&graph, through: after) } else { try Verifier.verify(graph) }
        output.stdout += GraphPrinter.render(graph, as: format)
    }
}

/// `speccc stats <spec> [--json] [--paper]`
enum Stats {
    static func run(_ args: inout Arguments, source: some SpecSource, into output: inout CommandOutput) throws {
        let json = args.flag("--json")
        let paper = args.flag("--paper")
        let spec = try args.positional("spec file")
        try args.finish()
        let graph = try Lowering.lower(specAt: spec, from: source)
        let stats = NetworkStats(graph)
        if paper { throw UsageError(message: "--paper: published figures are not recorded for this spec yet") }
        output.stdout += json ? stats.json().rendered() + "\n" : stats.text()
    }
}

/// `speccc plan <spec> [--json] [--svg <file>]`
enum Plan {
    static func run(_ args: inout Arguments, source: some SpecSource, into output: inout CommandOutput) throws {
        let json = args.flag("--json")
        let spec = try args.positional("spec file")
        try args.finish()
        var graph = try Lowering.lower(specAt: spec, from: source)
        try Pipeline.run(&graph)
        guard let plan = graph.memoryPlan else { throw UsageError(message: "no memory plan was made") }
        output.stdout += json ? GraphPrinter.json(plan).rendered() + "\n" : GraphPrinter.text(graph)
    }
}
