import Foundation
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
        let loaded = try SpecLoader.load(spec, from: source)
        let stats = NetworkStats(try Lowering.lower(loaded))
        guard paper else {
            output.stdout += json ? stats.json().rendered() + "\n" : stats.text()
            return
        }
        guard let figures = loaded.paper else {
            throw UsageError(message: "\(spec) records no published figures; add a line such as: paper madds=569M params=4.2M source=\"…\"")
        }
        output.stdout += json ? PaperComparison.json(stats, figures).rendered() + "\n" : PaperComparison.text(stats, figures)
    }
}

/// `speccc plan <spec> [--json] [--svg <file>]`
enum Plan {
    static func run(_ args: inout Arguments, source: some SpecSource, into output: inout CommandOutput) throws {
        let json = args.flag("--json")
        let svg = try args.value("--svg")
        let spec = try args.positional("spec file")
        try args.finish()
        var graph = try Lowering.lower(specAt: spec, from: source)
        try Pipeline.run(&graph)
        guard let plan = graph.memoryPlan else { throw UsageError(message: "no memory plan was made") }
        output.stdout += json ? GraphPrinter.json(plan).rendered() + "\n" : PlanReport.text(plan, of: graph)
        if let svg { output.files.append((svg, PlanReport.svg(plan, of: graph))) }
    }
}

/// Published figures next to speccc's counts.
enum PaperComparison {
    static func text(_ stats: NetworkStats, _ paper: PaperFigures) -> String {
        var rows: [(String, String, String, String)] = [("", "speccc", "paper", "difference")]
        func row(_ label: String, _ ours: Int, _ theirs: Double?) {
            guard let theirs else { return }
            let difference = (Double(ours) - theirs) / theirs * 100
            rows.append((label, grouped(ours), short(theirs), String(format: "%+.1f%%", difference)))
        }
        row("params", stats.params, paper.params)
        row("MACs (conv, linear)", stats.macs, paper.madds)
        if stats.elementwiseMacs > 0 {
            row("MACs + DYShiftMax x·a+x2·b", stats.macs + stats.elementwiseMacs, paper.madds)
        }
        let widths = [0, 1, 2, 3].map { i in rows.map { [$0.0, $0.1, $0.2, $0.3][i].count }.max()! }
        var text = "\(stats.network)\(paper.source.map { ": \($0)" } ?? "")\n"
        for r in rows {
            text += r.0.padding(widths[0] + 2) + String(repeating: " ", count: widths[1] - r.1.count) + r.1 + "  "
                + String(repeating: " ", count: widths[2] - r.2.count) + r.2 + "  " + String(repeating: " ", count: widths[3] - r.3.count) + r.3 + "\n"
        }
        if let top1 = paper.top1 { text += "published top-1: \(top1)%\n" }
        if let note = paper.note { text += "note: \(note)\n" }
        return text
    }

    static func json(_ stats: NetworkStats, _ paper: PaperFigures) -> JSON {
        .object([
            ("network", .string(stats.network)),
            ("params", .int(stats.params)), ("macs", .int(stats.macs)), ("elementwise_macs", .int(stats.elementwiseMacs)),
            ("paper", .object([
                ("params", paper.params.map(JSON.double) ?? .null), ("madds", paper.madds.map(JSON.double) ?? .null),
                ("top1", paper.top1.map(JSON.double) ?? .null), ("source", paper.source.map(JSON.string) ?? .null),
                ("note", paper.note.map(JSON.string) ?? .null),
            ])),
        ])
    }

    /// 569000000 → "569M", 4200000 → "4.2M".
    static func short(_ value: Double) -> String {
        let (scaled, suffix) = value >= 1e9 ? (value / 1e9, "G") : value >= 1e6 ? (value / 1e6, "M") : value >= 1e3 ? (value / 1e3, "K") : (value, "")
        let text = scaled == scaled.rounded() ? String(Int(scaled)) : String(format: "%g", scaled)
        return text + suffix
    }
}
