import SpecIR

/// A memory plan for people: a table of buffers, and a picture of the arena over time.
public enum PlanReport {
    public static func text(_ plan: MemoryPlan, of graph: Graph) -> String {
        var lines = [
            "\(graph.network): arena \(grouped(plan.arenaBytes)) bytes",
            "  lower bound                  \(grouped(plan.lowerBoundBytes).leftAligned(12)) (the most bytes live at one step)",
            "  greedy by size               \(grouped(plan.greedyBytes))",
            "  lower bound without in-place \(grouped(plan.lowerBoundWithoutInPlaceBytes))",
            "  naive (no sharing)           \(grouped(plan.naiveBytes))",
        ]
        if !plan.inputInArena {
            lines.append("  input \(graph.input.shape) has no buffer: the stem reads the caller's CHW image where it is")
        }
        lines += ["", "offset       size        live       tensor"]
        for buffer in plan.buffers.sorted(by: { ($0.firstStep, $0.offset) < ($1.firstStep, $1.offset) }) {
            lines.append(grouped(buffer.offset).rightAligned(10) + "  " + grouped(buffer.size).rightAligned(10) + "  "
                         + "\(buffer.firstStep)...\(buffer.lastStep)".leftAligned(9) + "  " + label(buffer, graph))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func label(_ buffer: MemoryPlan.Buffer, _ graph: Graph) -> String {
        if let owner = buffer.scratchOf { return "scratch of \(graph.node(owner).name)" }
        return buffer.tensors.map { "\(graph.node($0).name) \(graph.node($0).shape)" }.joined(separator: " → ")
    }

    /// The plan as an SVG picture: schedule steps across, arena offsets down, one rectangle
    /// per buffer labelled with its layer; scratch is hatched.
    public static func svg(_ plan: MemoryPlan, of graph: Graph) -> String {
        let steps = graph.nodes.count
        let (left, top, width, height) = (70.0, 46.0, 1100.0, 560.0)
        let stepWidth = width / Double(steps)
        let scale = height / Double(max(plan.arenaBytes, 1))
        var svg = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(left + width + 20))\" height=\"\(Int(top + height + 50))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"10\">",
            "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#eee\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#999\" stroke-width=\"2\"/></pattern></defs>",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"\(left)\" y=\"18\" font-size=\"14\" font-weight=\"bold\">\(escape(graph.network)): arena \(grouped(plan.arenaBytes)) bytes, lower bound \(grouped(plan.lowerBoundBytes)), naive \(grouped(plan.naiveBytes))</text>",
            "<text x=\"\(left)\" y=\"34\" fill=\"#555\">schedule step →   (arena offset ↓; hatched: a kernel's scratch; a → b: b written in place over a)</text>",
            "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width)\" height=\"\(height)\" fill=\"none\" stroke=\"#333\"/>",
        ]
        let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"]
        for (i, buffer) in plan.buffers.enumerated() {
            let x = left + Double(buffer.firstStep) * stepWidth, w = Double(buffer.lastStep - buffer.firstStep + 1) * stepWidth
            let y = top + Double(buffer.offset) * scale, h = max(1, Double(buffer.size) * scale)
            let fill = buffer.scratchOf == nil ? palette[i % palette.count] : "url(#hatch)"
            let title = escape(label(buffer, graph)) + ": \(grouped(buffer.size)) bytes at \(grouped(buffer.offset)), steps \(buffer.firstStep)...\(buffer.lastStep)"
            svg.append("<rect x=\"\(format(x))\" y=\"\(format(y))\" width=\"\(format(w))\" height=\"\(format(h))\" fill=\"\(fill)\" fill-opacity=\"0.85\" stroke=\"white\" stroke-width=\"0.5\"><title>\(title)</title></rect>")
            if h >= 11, w >= 40, buffer.scratchOf == nil {
                let name = escape(buffer.tensors.map { graph.node($0).name }.joined(separator: "→"))
                let fits = Int(w / 5.5)
                svg.append("<text x=\"\(format(x + 2))\" y=\"\(format(y + min(h / 2 + 3, 12)))\" fill=\"white\">\(name.count > fits ? String(name.prefix(max(fits - 1, 1))) + "…" : name)</text>")
            }
        }
        for fraction in stride(from: 0.0, through: 1.0, by: 0.25) {
            let y = top + fraction * height
            svg.append("<text x=\"\(left - 6)\" y=\"\(format(y + 3))\" text-anchor=\"end\" fill=\"#555\">\(megabytes(fraction * Double(plan.arenaBytes)))</text>")
        }
        for step in stride(from: 0, to: steps, by: max(1, steps / 10)) {
            svg.append("<text x=\"\(format(left + (Double(step) + 0.5) * stepWidth))\" y=\"\(format(top + height + 14))\" text-anchor=\"middle\" fill=\"#555\">\(step)</text>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    static func format(_ x: Double) -> String { String(Double(Int(x * 10)) / 10) }
    static func megabytes(_ bytes: Double) -> String { String(Double(Int(bytes / 10_000)) / 100) + " MB" }
    static func escape(_ s: String) -> String {
        s.replacingOccurrences("&", "&amp;").replacingOccurrences("<", "&lt;").replacingOccurrences(">", "&gt;")
    }
}

extension String {
    func leftAligned(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
    func rightAligned(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
