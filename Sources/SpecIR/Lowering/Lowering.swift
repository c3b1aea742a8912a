import SpecLang

/// Builds the IR graph from a resolved spec: input, stem rows, block tables, head rows.
public enum Lowering {
    /// Loads the spec at `path` (with its includes) and lowers it.
    public static func lower(specAt path: String, from source: some SpecSource) throws -> Graph {
        try lower(SpecLoader.load(path, from: source))
    }

    public static func lower(_ spec: Spec) throws -> Graph {
        var builder = try GraphBuilder(spec: spec)
        for section in spec.sections {
            switch section {
            case .stem(let rows, _): try lowerLayers(rows, section: "stem", into: &builder)
            case .table(let table): try TableLowering.lower(table, into: &builder)
            case .head(let rows, _): try lowerLayers(rows, section: "head", into: &builder)
            }
        }
        let out = builder.graph.node(builder.current).shape
        guard out == TensorShape(channels: spec.classes, height: 1, width: 1) else {
            let at = spec.sections.last.map(\.location) ?? spec.networkLocation
            throw SpecError("the network ends in a \(out) tensor, not \(spec.classes) class scores; end the head with 'avgpool' and 'linear out=classes'", at: at)
        }
        return builder.graph
    }

    /// Names nodes by section and op: `stem.conv`, `head.conv`, `head.conv2`, …
    private static func lowerLayers(_ rows: [LayerRow], section: String, into builder: inout GraphBuilder) throws {
        var seen: [String: Int] = [:]
        for row in rows {
            seen[row.op, default: 0] += 1
            let count = seen[row.op]!
            let name = "\(section).\(row.op)\(count > 1 ? String(count) : "")"
            try LayerLowering.lower(row, named: name, into: &builder)
        }
    }
}

extension Section {
    public var location: SourceLocation {
        switch self {
        case .stem(_, let location), .head(_, let location): return location
        case .table(let table): return table.location
        }
    }
}

/// The lowering's running state: the graph so far, the current tensor, and block counters.
public struct GraphBuilder {
    public private(set) var graph: Graph
    public let spec: Spec
    public var current: NodeID
    /// Channel count of the current tensor as the paper's tables write it (before the width
    /// multiplier); timm derives expansion ratios from it.
    public var nominalChannels: Int
    /// Blocks emitted so far over all tables, and stages of the tables already lowered.
    var blockCount = 0
    var stageBase = 0
    var blocksInStage: [Int: Int] = [:]

    init(spec: Spec) throws {
        guard !spec.checkpoints.isEmpty else {
            throw SpecError("the spec declares no checkpoint convention; add e.g. 'checkpoint timm bn_eps=1e-5'", at: spec.networkLocation)
        }
        var conventions: [Convention] = []
        for decl in spec.checkpoints {
            var eps: Double?
            for option in decl.options {
                guard option.name == "bn_eps" else {
                    throw SpecError("unknown checkpoint option '\(option.name)' (known: bn_eps)", at: option.location)
                }
                guard let value = option.value?.number, value > 0, value < 1 else {
                    throw SpecError("bn_eps must be a number between 0 and 1", at: option.location)
                }
                eps = value
            }
            guard let eps else {
                throw SpecError("checkpoint '\(decl.name)' needs bn_eps=…: BatchNorm eps is not stored in checkpoints", at: decl.location)
            }
            conventions.append(Convention(name: decl.name, batchNormEps: eps))
        }
        self.spec = spec
        self.graph = Graph(network: spec.network, specFile: spec.file, classes: spec.classes, width: spec.width, conventions: conventions)
        let inputOrigin = Origin(location: spec.networkLocation, text: "network \(spec.network)")
        self.current = graph.setInput(TensorShape(channels: spec.channels, height: spec.resolution, width: spec.resolution), origin: inputOrigin)
        self.nominalChannels = spec.channels
    }

    public var shape: TensorShape { graph.node(current).shape }

    /// A channel count from a table or row, scaled as the papers' code does.
    public func scaled(_ nominal: Int, by multiplier: Double) -> Int {
        multiplier == 1 ? nominal : makeDivisible(Double(nominal) * multiplier, divisor: spec.divisor)
    }

    @discardableResult
    public mutating func append(_ op: Op, name: String, origin: Origin) throws -> NodeID {
        current = try graph.append(op, name: name, origin: origin)
        return current
    }

    /// conv → [BatchNorm] → [activation], the unfused form every network starts from.
    @discardableResult
    public mutating func convUnit(
        _ name: String, origin: Origin, out: Int, kernel: Int, stride: Int = 1, groups: Int = 1,
        bias: Bool = false, conv: ModuleName, norm: ModuleName?, activation: Activation
    ) throws -> NodeID {
        try convUnit(name, origin: origin, out: out, kernel: (kernel, kernel), stride: (stride, stride), groups: groups,
                     bias: bias, conv: conv, norm: norm, activation: activation)
    }

    /// The same with a kernel and stride per axis (k×1 and 1×k convs); padding is k/2 per axis.
    @discardableResult
    public mutating func convUnit(
        _ name: String, origin: Origin, out: Int, kernel: (Int, Int), stride: (Int, Int), groups: Int = 1,
        bias: Bool = false, conv: ModuleName, norm: ModuleName?, activation: Activation
    ) throws -> NodeID {
        let c = Conv(input: current, outChannels: out, kernel: kernel, stride: stride,
                     padding: (kernel.0 / 2, kernel.1 / 2), groups: groups, weight: conv, hasBias: bias)
        try append(.conv(c), name: name, origin: origin)
        if let norm { try append(.batchNorm(input: current, module: norm), name: name + ".bn", origin: origin) }
        if activation != .identity { try append(.activation(input: current, activation), name: name + "." + activation.rawValue, origin: origin) }
        return current
    }

    /// Squeeze-and-excite in generic layers: pool → 1×1 conv → act → 1×1 conv → gate → scale.
    public mutating func squeezeExcite(
        _ name: String, origin: Origin, squeeze: Int, reduce: ModuleName, expand: ModuleName,
        inner: Activation = .relu, gate: Activation = .hardsigmoid
    ) throws {
        let x = current
        let channels = shape.channels
        try append(.globalAveragePool(input: x, before: .identity, after: .identity), name: name + ".pool", origin: origin)
        try convUnit(name + ".reduce", origin: origin, out: squeeze, kernel: 1, bias: true, conv: reduce, norm: nil, activation: inner)
        try convUnit(name + ".expand", origin: origin, out: channels, kernel: 1, bias: true, conv: expand, norm: nil, activation: gate)
        try append(.scaleChannels(input: x, gate: current), name: name + ".scale", origin: origin)
    }
}

extension GraphBuilder {
    /// Dynamic Shift-Max in generic layers: pool → linear → ReLU → linear → hardsigmoid →
    /// shift-max of the input by those coefficients. The FC layers are nn.Linear.
    public mutating func dynamicShiftMax(
        _ name: String, origin: Origin, squeeze: Int, reduce: ModuleName, expand: ModuleName, params: ShiftMaxParams
    ) throws {
        let x = current
        let channels = shape.channels
        try append(.globalAveragePool(input: x, before: .identity, after: .identity), name: name + ".pool", origin: origin)
        try append(.linear(Linear(input: current, outFeatures: squeeze, weight: reduce, hasBias: true, activation: .identity)), name: name + ".fc1", origin: origin)
        try append(.activation(input: current, .relu), name: name + ".fc1.relu", origin: origin)
        try append(.linear(Linear(input: current, outFeatures: channels * params.coefficients, weight: expand, hasBias: true, activation: .identity)), name: name + ".fc2", origin: origin)
        try append(.activation(input: current, .hardsigmoid), name: name + ".fc2.hardsigmoid", origin: origin)
        try append(.shiftMax(input: x, coefficients: current, params), name: name + ".shift_max", origin: origin)
    }

    public mutating func shuffle(_ name: String, origin: Origin, groups: Int) throws {
        try append(.channelShuffle(input: current, groups: groups), name: name, origin: origin)
    }
}

/// Where a block sits, for key patterns such as `blocks.{stage}.{index}` or `features.{block+1}`.
struct BlockPlace {
    var block: Int
    var stage: Int
    var index: Int
}
