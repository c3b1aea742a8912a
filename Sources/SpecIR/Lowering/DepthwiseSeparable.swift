import SpecLang

/// Depthwise-separable blocks, as MobileNetV1 (Howard et al. 2017, Table 1) and PP-LCNet
/// (Cui et al. 2021) write them: rows `[k] [in] out s [se]`.
///
/// k×k depthwise (stride s) + BN + act → [SE] → 1×1 pointwise + BN + act, with no residual
/// (timm's `dsa` block). `k` defaults to 3; `in`, when given, must match the width the
/// previous row produces. SE squeezes to round(c/4) with ReLU and hardsigmoid, as timm and
/// PaddleClas build it. The table option `act` names the activation (default RE6).
enum DepthwiseSeparable: BlockKind {
    static let name = "dsconv"
    static let columns = [
        ColumnSpec(name: "out"), ColumnSpec(name: "s"),
        ColumnSpec(name: "k", required: false), ColumnSpec(name: "in", required: false), ColumnSpec(name: "se", required: false),
    ]
    static let keyLayouts = ["timm"]
    static let tableOptions: [String: TableOption] = ["act": .word(["RE", "RE6", "HS"], default: "RE6")]

    static func lower(_ row: inout BlockRow, into b: inout GraphBuilder) throws {
        let kernel = row.cell("k") == nil ? 3 : try row.kernel("k")
        let outNominal = try row.channels("out")
        let stride = try row.stride("s")
        let hasSE = row.cell("se") == nil ? false : try row.flag("se", on: ["SE", "se", "yes"])
        let act = Activation(specName: row.word("act"))!
        if row.cell("in") != nil {
            let inNominal = try row.channels("in")
            guard inNominal == b.nominalChannels else {
                throw SpecError("column 'in' says \(inNominal), but the layer before produces \(b.nominalChannels) channels", at: row.cell("in")!.location)
            }
        }
        let channels = b.shape.channels
        let out = b.scaled(outNominal, by: b.spec.width)
        let names = row.nextBlock(&b)
        let origin = row.origin
        try b.convUnit(names.node + ".dw", origin: origin, out: channels, kernel: kernel, stride: stride, groups: channels,
                       conv: names.module { _ in "conv_dw" }, norm: names.module { _ in "bn1" }, activation: act)
        if hasSE {
            try b.squeezeExcite(names.node + ".se", origin: origin, squeeze: Int((Double(channels) / 4).rounded(.toNearestOrEven)),
                                reduce: names.module { _ in "se.conv_reduce" }, expand: names.module { _ in "se.conv_expand" })
        }
        try b.convUnit(names.node + ".pw", origin: origin, out: out, kernel: 1,
                       conv: names.module { _ in "conv_pw" }, norm: names.module { _ in "bn2" }, activation: act)
        b.nominalChannels = outNominal
    }
}

/// MobileNetV2's inverted residual (Sandler et al. 2018, Table 2): rows `t c n s`, each
/// row n blocks, the first with stride s.
///
/// [1×1 expand to make_divisible(in·t) + BN + act, absent when t = 1] → k×k depthwise + BN
/// + act → 1×1 project to c + BN (linear), plus the input when stride 1 and in = out.
/// `k` is an optional column (default 3); the table option `act` defaults to RE6.
enum InvertedResidual: BlockKind {
    static let name = "ir"
    static let columns = [
        ColumnSpec(name: "t"), ColumnSpec(name: "c"), ColumnSpec(name: "n"), ColumnSpec(name: "s"),
        ColumnSpec(name: "k", required: false),
    ]
    static let keyLayouts = ["timm", "torchvision"]
    static let tableOptions: [String: TableOption] = ["act": .word(["RE", "RE6", "HS"], default: "RE6")]

    static func lower(_ row: inout BlockRow, into b: inout GraphBuilder) throws {
        let expansion = try row.number("t")
        guard expansion >= 1, expansion <= 64 else {
            throw SpecError("expansion t must be between 1 and 64, found \(Value.number(expansion))", at: row.cell("t")!.location)
        }
        let outNominal = try row.channels("c")
        let repeats = try row.integer("n", range: 1...64, what: "repeat count n")
        let firstStride = try row.stride("s")
        let kernel = row.cell("k") == nil ? 3 : try row.kernel("k")
        let act = Activation(specName: row.word("act"))!
        let out = b.scaled(outNominal, by: b.spec.width)
        for i in 0..<repeats {
            let stride = i == 0 ? firstStride : 1
            let input = b.current
            let inChannels = b.shape.channels
            let hasExpand = expansion != 1
            let mid = hasExpand ? makeDivisible(Double(inChannels) * expansion, divisor: b.spec.divisor) : inChannels
            let names = row.nextBlock(&b)
            let layout = KeyLayout(hasExpand: hasExpand)
            let origin = row.origin
            if hasExpand {
                try b.convUnit(names.node + ".expand", origin: origin, out: mid, kernel: 1,
                               conv: names.module { layout.key(.expand, $0) }, norm: names.module { layout.key(.expandNorm, $0) },
                               activation: act)
            }
            try b.convUnit(names.node + ".dw", origin: origin, out: mid, kernel: kernel, stride: stride, groups: mid,
                           conv: names.module { layout.key(.depthwise, $0) }, norm: names.module { layout.key(.depthwiseNorm, $0) },
                           activation: act)
            try b.convUnit(names.node + ".project", origin: origin, out: out, kernel: 1,
                           conv: names.module { layout.key(.project, $0) }, norm: names.module { layout.key(.projectNorm, $0) },
                           activation: .identity)
            if stride == 1 && inChannels == out {
                try b.append(.add(b.current, input), name: names.node + ".add", origin: origin)
            }
        }
        b.nominalChannels = outNominal
    }

    enum Role { case expand, expandNorm, depthwise, depthwiseNorm, project, projectNorm }

    struct KeyLayout {
        var hasExpand: Bool

        func key(_ role: Role, _ convention: String) -> String {
            convention == "timm" ? timm(role) : torchvision(role)
        }

        /// InvertedResidual, or DepthwiseSeparableConv when t = 1.
        func timm(_ role: Role) -> String {
            switch role {
            case .expand: return "conv_pw"
            case .expandNorm: return "bn1"
            case .depthwise: return "conv_dw"
            case .depthwiseNorm: return hasExpand ? "bn2" : "bn1"
            case .project: return hasExpand ? "conv_pwl" : "conv_pw"
            case .projectNorm: return hasExpand ? "bn3" : "bn2"
            }
        }

        /// `conv.N`: [expand conv-BN pair], depthwise conv-BN pair, project conv, project BN.
        func torchvision(_ role: Role) -> String {
            let depthwise = hasExpand ? 1 : 0
            switch role {
            case .expand: return "conv.0.0"
            case .expandNorm: return "conv.0.1"
            case .depthwise: return "conv.\(depthwise).0"
            case .depthwiseNorm: return "conv.\(depthwise).1"
            case .project: return "conv.\(depthwise + 1)"
            case .projectNorm: return "conv.\(depthwise + 2)"
            }
        }
    }
}
