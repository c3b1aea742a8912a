import SpecLang

/// MobileNetV3's bottleneck (Howard et al. 2019, Tables 1–2): rows `k exp out se nl s`.
///
/// [1×1 expand + BN + nl] → k×k depthwise (stride s) + BN + nl → [SE] → 1×1 project + BN,
/// plus the input when s = 1 and in = out. The expand conv is absent when exp equals the
/// block's input width. SE squeezes to make_divisible(expanded/4).
///
/// The table option `expansion` says how the width multiplier reaches the expanded width:
/// `ratio` (timm) makes it make_divisible(in · exp/in_table), the table's ratio applied to
/// the scaled input; `scaled` (torchvision) makes it make_divisible(exp · width).
/// An optional `res` column forces (`yes`) or suppresses (`no`) the residual.
enum Bneck: BlockKind {
    static let name = "bneck"
    static let columns = [
        ColumnSpec(name: "k"), ColumnSpec(name: "exp"), ColumnSpec(name: "out"),
        ColumnSpec(name: "se"), ColumnSpec(name: "nl"), ColumnSpec(name: "s"),
        ColumnSpec(name: "res", required: false),
    ]
    static let keyLayouts = ["timm", "torchvision"]
    static let tableOptions: [String: TableOption] = ["expansion": .word(["ratio", "scaled"], default: "ratio")]

    static func lower(_ row: inout BlockRow, into b: inout GraphBuilder) throws {
        let kernel = try row.kernel("k")
        let expandNominal = try row.channels("exp")
        let outNominal = try row.channels("out")
        let hasSE = try row.flag("se", on: ["SE", "se", "yes"])
        let act = try row.activation("nl")
        let stride = try row.stride("s")
        let residual = try ResidualChoice(row)

        let input = b.current
        let inChannels = b.shape.channels
        let mid: Int
        let hasExpand: Bool
        if row.word("expansion") == "scaled" {
            mid = b.scaled(expandNominal, by: b.spec.width)
            hasExpand = mid != inChannels
        } else {
            hasExpand = expandNominal != b.nominalChannels
            mid = hasExpand
                ? makeDivisible(Double(inChannels) * Double(expandNominal) / Double(b.nominalChannels), divisor: b.spec.divisor)
                : inChannels
        }
        let out = b.scaled(outNominal, by: b.spec.width)
        let names = row.nextBlock(&b)
        let layout = KeyLayout(hasExpand: hasExpand, hasSE: hasSE)
        let origin = row.origin

        if hasExpand {
            try b.convUnit(names.node + ".expand", origin: origin, out: mid, kernel: 1,
                           conv: names.module { layout.key(.expand, $0) }, norm: names.module { layout.key(.expandNorm, $0) },
                           activation: act)
        }
        try b.convUnit(names.node + ".dw", origin: origin, out: mid, kernel: kernel, stride: stride, groups: mid,
                       conv: names.module { layout.key(.depthwise, $0) }, norm: names.module { layout.key(.depthwiseNorm, $0) },
                       activation: act)
        if hasSE {
            try b.squeezeExcite(names.node + ".se", origin: origin, squeeze: makeDivisible(Double(mid) / 4, divisor: b.spec.divisor),
                                reduce: names.module { layout.key(.seReduce, $0) }, expand: names.module { layout.key(.seExpand, $0) })
        }
        try b.convUnit(names.node + ".project", origin: origin, out: out, kernel: 1,
                       conv: names.module { layout.key(.project, $0) }, norm: names.module { layout.key(.projectNorm, $0) },
                       activation: .identity)
        if residual.applies(stride: stride, inChannels: inChannels, outChannels: out) {
            try b.append(.add(b.current, input), name: names.node + ".add", origin: origin)
        }
        b.nominalChannels = outNominal
    }

    enum Role { case expand, expandNorm, depthwise, depthwiseNorm, seReduce, seExpand, project, projectNorm }

    /// Module names inside one block, as timm and torchvision save them.
    struct KeyLayout {
        var hasExpand: Bool
        var hasSE: Bool

        func key(_ role: Role, _ convention: String) -> String {
            convention == "timm" ? timm(role) : torchvision(role)
        }

        /// InvertedResidual (conv_pw, bn1, conv_dw, bn2, se, conv_pwl, bn3), or
        /// DepthwiseSeparableConv when there is no expansion (conv_dw, bn1, se, conv_pw, bn2).
        func timm(_ role: Role) -> String {
            switch role {
            case .expand: return "conv_pw"
            case .expandNorm: return "bn1"
            case .depthwise: return "conv_dw"
            case .depthwiseNorm: return hasExpand ? "bn2" : "bn1"
            case .seReduce: return "se.conv_reduce"
            case .seExpand: return "se.conv_expand"
            case .project: return hasExpand ? "conv_pwl" : "conv_pw"
            case .projectNorm: return hasExpand ? "bn3" : "bn2"
            }
        }

        /// `block.N` numbered in order: [expand], depthwise, [SE fc1/fc2], project;
        /// conv-BN pairs are `.0` and `.1`.
        func torchvision(_ role: Role) -> String {
            let depthwise = hasExpand ? 1 : 0
            let se = depthwise + 1
            let project = hasSE ? se + 1 : se
            switch role {
            case .expand: return "block.0.0"
            case .expandNorm: return "block.0.1"
            case .depthwise: return "block.\(depthwise).0"
            case .depthwiseNorm: return "block.\(depthwise).1"
            case .seReduce: return "block.\(se).fc1"
            case .seExpand: return "block.\(se).fc2"
            case .project: return "block.\(project).0"
            case .projectNorm: return "block.\(project).1"
            }
        }
    }
}

/// The optional `res` column: `-` or `auto` (residual when stride 1 and widths match), `yes`, `no`.
struct ResidualChoice {
    enum Mode { case auto, always, never }
    var mode: Mode

    init(_ row: BlockRow) throws {
        guard let cell = row.cell("res") else { mode = .auto; return }
        switch cell.value {
        case .absent, .word("auto"): mode = .auto
        case .word("yes"): mode = .always
        case .word("no"): mode = .never
        default: throw SpecError("column 'res' takes yes, no, auto or -, found '\(cell.value)'", at: cell.location)
        }
    }

    /// `always` adds even when shapes differ; shape inference then reports the mismatch.
    func applies(stride: Int, inChannels: Int, outChannels: Int) -> Bool {
        switch mode {
        case .auto: return stride == 1 && inChannels == outChannels
        case .always: return true
        case .never: return false
        }
    }
}
