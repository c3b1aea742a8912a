import SpecLang

/// MicroNet's DYMicroBlock (Li et al. 2021; official code liyunsheng13/micronet,
/// backbone/micronet.py), rows `s n c ks c1 c2 g1 g2 c3 g3 g4 y1 y2 y3 r` as microconfig.py
/// writes them. With in the block's input width, hidden = in·c1·c2 and G the shift groups:
///
/// - g1 = 0: depthwise k×1 then 1×k conv to hidden (DSS) → DYShiftMax (y2) or ReLU6 →
///   shuffle(g2) [→ shuffle(hidden/2) when y2] → grouped 1×1 (g3) to c → [DYShiftMax (y3)]
///   → shuffle(g4) [→ shuffle(c/2) when y3 and c is even];
/// - g4 = 0: grouped 1×1 (g1) to hidden → [DYShiftMax (y3)];
/// - otherwise: grouped 1×1 (g1) to hidden → DYShiftMax (y1) or ReLU6 → shuffle(g2) → DSS
///   → DYShiftMax (y2, shift groups hidden/g2) or ReLU6 → shuffle(hidden/4 when y1 and y2,
///   none when neither, hidden/2 otherwise) → grouped 1×1 (g3) to c → [DYShiftMax (y3)] →
///   shuffle(g4) [→ shuffle(c/2) when y3];
///
/// every conv followed by BatchNorm, plus the input when stride 1 and in = c. y = 2 means
/// the max of two affine branches, y = 1 one branch; the last DYShiftMax of a block is one
/// branch with init `init_ab3`. Squeeze = max(4, make_divisible(C // (reduction·r), 4)),
/// halved reduction for the last DYShiftMax where the code says so. Channel counts are
/// exact: MicroNet has no width multiplier.
enum MicroBlock: BlockKind {
    static let name = "micro"
    static let columns = ["s", "n", "c", "ks", "c1", "c2", "g1", "g2", "c3", "g3", "g4", "y1", "y2", "y3", "r"].map { ColumnSpec(name: $0) }
    static let keyLayouts = ["micronet"]
    static let tableOptions: [String: TableOption] = [
        "init_a": .numbers(count: 2, default: [1, 1]),
        "init_b": .numbers(count: 2, default: [0, 0]),
        "init_ab3": .numbers(count: 2, default: [1, 0]),
        "act_max": .numbers(count: 1, default: [2]),
        "reduction": .numbers(count: 1, default: [8]),
    ]

    static func lower(_ row: inout BlockRow, into b: inout GraphBuilder) throws {
        guard b.spec.width == 1 else {
            throw SpecError("MicroNet rows give exact channel counts; a width multiplier does not apply", at: row.row.location)
        }
        func count(_ column: String, _ range: ClosedRange<Int> = 0...4096) throws -> Int {
            try row.integer(column, range: range, what: "column '\(column)'")
        }
        let stride = try row.stride("s"), repeats = try count("n", 1...64), out = try row.channels("c")
        let kernel = try row.kernel("ks")
        let (c1, c2) = (try count("c1", 1...64), try count("c2", 1...64))
        let (g1, g2) = (try count("g1"), try count("g2"))
        let (g3, g4) = (try count("g3"), try count("g4"))
        _ = try count("c3")  // the official code reads it as 'hidden_fft' and never uses it
        let (y1, y2, y3) = (try count("y1", 0...2), try count("y2", 0...2), try count("y3", 0...2))
        let r = try count("r", 1...64)
        let settings = Settings(initA: row.numbers("init_a"), initB: row.numbers("init_b"), initAB3: row.numbers("init_ab3"),
                                actMax: row.numbers("act_max")[0] * 2, reduction: Int(row.numbers("reduction")[0]) * r)
        for i in 0..<repeats {
            let input = b.current
            let inChannels = b.shape.channels
            let hidden = inChannels * c1 * c2
            let names = row.nextBlock(&b)
            var block = Block(names: names, origin: row.origin, settings: settings)
            let s = i == 0 ? stride : 1
            if g1 == 0 {
                try block.dss(&b, expand: (c1, c2), kernel: kernel, stride: s, layer: 0)
                try block.activation(&b, y2, channels: hidden, g: g2, expansion: false, layer: 1)
                try b.shuffle(block.node("shuffle1"), origin: row.origin, groups: g2)
                if y2 != 0 { try b.shuffle(block.node("shuffle2"), origin: row.origin, groups: hidden / 2) }
                try block.groupConv(&b, out: out, groups: g3, layer: 4)
                if y3 > 0 { try block.lastShiftMax(&b, channels: out, reduction: settings.reduction / 2, g: g4, layer: 5) }
                try b.shuffle(block.node("shuffle3"), origin: row.origin, groups: g4)
                if out % 2 == 0, y3 != 0 { try b.shuffle(block.node("shuffle4"), origin: row.origin, groups: out / 2) }
            } else if g4 == 0 {
                try block.groupConv(&b, out: hidden, groups: g1, layer: 0)
                if y3 > 0 { try block.lastShiftMax(&b, channels: hidden, reduction: settings.reduction, g: g2, layer: 1) }
            } else {
                try block.groupConv(&b, out: hidden, groups: g1, layer: 0)
                try block.activation(&b, y1, channels: hidden, g: g2, expansion: false, layer: 1)
                try b.shuffle(block.node("shuffle1"), origin: row.origin, groups: g2)
                try block.dss(&b, expand: (1, 1), kernel: kernel, stride: s, layer: 3)
                try block.activation(&b, y2, channels: hidden, g: g2, expansion: true, layer: 5)
                if y1 != 0 && y2 != 0 {
                    try b.shuffle(block.node("shuffle2"), origin: row.origin, groups: hidden / 4)
                } else if y1 != 0 || y2 != 0 {
                    try b.shuffle(block.node("shuffle2"), origin: row.origin, groups: hidden / 2)
                }
                try block.groupConv(&b, out: out, groups: g3, layer: 7)
                if y3 > 0 {
                    try block.lastShiftMax(&b, channels: out, reduction: out < hidden ? settings.reduction / 2 : settings.reduction, g: g4, layer: 8)
                }
                try b.shuffle(block.node("shuffle3"), origin: row.origin, groups: g4)
                if y3 != 0 { try b.shuffle(block.node("shuffle4"), origin: row.origin, groups: out / 2) }
            }
            if s == 1 && inChannels == b.shape.channels {
                try b.append(.add(b.current, input), name: names.node + ".add", origin: row.origin)
            }
        }
        b.nominalChannels = b.shape.channels
    }

    struct Settings {
        var initA: [Double], initB: [Double], initAB3: [Double]
        var actMax: Double
        var reduction: Int
    }

    /// One block's layers, named as the official module tree (`features.N.layers.J…`).
    struct Block {
        let names: BlockNames
        let origin: Origin
        let settings: Settings
        var dssCount = 0, groupConvCount = 0, shiftMaxCount = 0

        init(names: BlockNames, origin: Origin, settings: Settings) {
            self.names = names
            self.origin = origin
            self.settings = settings
        }

        func node(_ suffix: String) -> String { names.node + "." + suffix }
        func module(_ path: String) -> ModuleName { names.module { _ in path } }

        /// DepthSpatialSepConv: k×1 (stride s×1) then 1×k (stride 1×s), each depthwise
        /// with a channel multiplier, each followed by BatchNorm.
        mutating func dss(_ b: inout GraphBuilder, expand: (Int, Int), kernel: Int, stride: Int, layer: Int) throws {
            dssCount += 1
            let channels = b.shape.channels
            try b.convUnit(node("dss\(dssCount).conv1"), origin: origin, out: channels * expand.0, kernel: (kernel, 1), stride: (stride, 1),
                           groups: channels, conv: module("layers.\(layer).conv.0"), norm: module("layers.\(layer).conv.1"), activation: .identity)
            let hidden = b.shape.channels
            try b.convUnit(node("dss\(dssCount).conv2"), origin: origin, out: hidden * expand.1, kernel: (1, kernel), stride: (1, stride),
                           groups: hidden, conv: module("layers.\(layer).conv.2"), norm: module("layers.\(layer).conv.3"), activation: .identity)
        }

        /// GroupConv: a 1×1 conv with `groups` groups, then BatchNorm.
        mutating func groupConv(_ b: inout GraphBuilder, out: Int, groups: Int, layer: Int) throws {
            groupConvCount += 1
            try b.convUnit(node("pw\(groupConvCount)"), origin: origin, out: out, kernel: 1, groups: max(1, groups),
                           conv: module("layers.\(layer).conv.0"), norm: module("layers.\(layer).conv.1"), activation: .identity)
        }

        /// DYShiftMax with two branches (y = 2) or one (y = 1), or ReLU6 (y = 0).
        mutating func activation(_ b: inout GraphBuilder, _ y: Int, channels: Int, g: Int, expansion: Bool, layer: Int) throws {
            guard y > 0 else {
                try b.append(.activation(input: b.current, .relu6), name: node("relu6_\(layer)"), origin: origin)
                return
            }
            var groups = g
            if groups != 1 && expansion { groups = channels / groups }
            try shiftMax(&b, channels: channels, coefficients: y == 2 ? 4 : 2, reduction: settings.reduction, groups: groups,
                         initA: settings.initA, initB: settings.initB, layer: layer)
        }

        /// The block's last DYShiftMax: one branch, initialized from init_ab3.
        mutating func lastShiftMax(_ b: inout GraphBuilder, channels: Int, reduction: Int, g: Int, layer: Int) throws {
            try shiftMax(&b, channels: channels, coefficients: 2, reduction: reduction, groups: g,
                         initA: [settings.initAB3[0], 0], initB: [settings.initAB3[1], 0], layer: layer)
        }

        mutating func shiftMax(_ b: inout GraphBuilder, channels: Int, coefficients: Int, reduction: Int, groups: Int,
                               initA: [Double], initB: [Double], layer: Int) throws {
            shiftMaxCount += 1
            guard reduction >= 1, groups >= 1, channels % groups == 0 else {
                throw SpecError("DYShiftMax cannot shift \(channels) channels in \(groups) groups", at: origin.location)
            }
            let squeeze = max(4, makeDivisible(Double(channels / reduction), divisor: 4))
            let params = ShiftMaxParams(coefficients: coefficients, shiftGroups: groups, actMax: settings.actMax, initA: initA, initB: initB)
            try b.dynamicShiftMax(node("dys\(shiftMaxCount)"), origin: origin, squeeze: squeeze,
                                  reduce: module("layers.\(layer).fc.0"), expand: module("layers.\(layer).fc.2"), params: params)
        }
    }
}
