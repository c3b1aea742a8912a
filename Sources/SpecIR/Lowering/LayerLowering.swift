import SpecLang

/// Lowers `stem` and `head` rows: `conv`, `avgpool`, `linear`, `dropout`.
enum LayerLowering {
    static let ops = ["conv", "avgpool", "linear", "act", "shuffle", "dropout"]

    /// `name` is the node name, e.g. `head.conv2` for the head's second conv.
    static func lower(_ row: LayerRow, named name: String, into b: inout GraphBuilder) throws {
        let origin = Origin(location: row.location, text: row.text)
        var options = try RowOptions(row, conventions: b.graph.conventions.map(\.name))
        switch row.op {
        case "conv":
            let kernel = try options.pair("k", range: 1...15, what: "kernel size")
            guard kernel.0 % 2 == 1, kernel.1 % 2 == 1 else {
                throw SpecError("kernel size must be odd (padding is k/2 on each side), found \(kernel.0 == kernel.1 ? "\(kernel.0)" : "\(kernel.0)x\(kernel.1)")", at: options.location("k"))
            }
            let stride = try options.pair("s", default: 1, range: 1...16, what: "stride")
            let groups = try options.integer("groups", default: 1, range: 1...65536, what: "groups")
            let out = try options.channels("out", builder: b)
            let bias = try options.flag("bias")
            let bn = try options.flag("bn")
            let act = try options.activation("act")
            let names = try options.moduleNames(count: bn ? 2 : 1, what: bn ? "conv and BatchNorm modules" : "conv module")
            try options.rejectUnknown(op: "conv")
            try b.convUnit(name, origin: origin, out: out.count, kernel: kernel, stride: stride, groups: groups,
                           bias: bias, conv: names[0], norm: bn ? names[1] : nil, activation: act)
            b.nominalChannels = out.nominal
        case "avgpool":
            try options.rejectUnknown(op: "avgpool")
            try b.append(.globalAveragePool(input: b.current, before: .identity, after: .identity), name: name, origin: origin)
        case "linear":
            let out = try options.channels("out", builder: b)
            let bias = try options.flag("bias")
            let bn = try options.flag("bn")
            let act = try options.activation("act")
            let names = try options.moduleNames(count: bn ? 2 : 1, what: bn ? "linear and BatchNorm1d modules" : "linear module")
            try options.rejectUnknown(op: "linear")
            try b.append(.linear(Linear(input: b.current, outFeatures: out.count, weight: names[0], hasBias: bias, activation: .identity)), name: name, origin: origin)
            if bn { try b.append(.batchNorm(input: b.current, module: names[1]), name: name + ".bn", origin: origin) }
            if act != .identity { try b.append(.activation(input: b.current, act), name: name + "." + act.rawValue, origin: origin) }
            b.nominalChannels = out.nominal
        case "act":
            // `act RE6`: the function is the row's one flag.
            guard row.options.count == 1, row.options[0].value == nil, let act = Activation(specName: row.options[0].name) else {
                throw SpecError("'act' takes one activation, e.g. 'act RE6' (known: RE, RE6, HS, hsigmoid)", at: row.location)
            }
            try b.append(.activation(input: b.current, act), name: name, origin: origin)
        case "shuffle":
            let groups = try options.integer("groups", range: 1...65536, what: "shuffle groups")
            try options.rejectUnknown(op: "shuffle")
            try b.shuffle(name, origin: origin, groups: groups)
        case "dropout":
            // Identity at inference; accepted so specs can follow the paper's layer list.
            _ = options.take("p")
            try options.rejectUnknown(op: "dropout")
        default:
            throw SpecError("unknown op '\(row.op)' (stem and head rows take \(ops.joined(separator: ", ")))", at: row.location)
        }
    }
}

/// The options of a stem/head row, consumed one by one so leftovers can be reported.
struct RowOptions {
    private var options: [String: Option]
    private let rowLocation: SourceLocation
    private let conventions: [String]

    init(_ row: LayerRow, conventions: [String]) throws {
        var options: [String: Option] = [:]
        for option in row.options {
            if options[option.name] != nil { throw SpecError("option '\(option.name)' is given twice", at: option.location) }
            options[option.name] = option
        }
        self.options = options
        self.rowLocation = row.location
        self.conventions = conventions
    }

    func location(_ name: String) -> SourceLocation { options[name]?.location ?? rowLocation }

    mutating func take(_ name: String) -> Option? { options.removeValue(forKey: name) }

    mutating func number(_ name: String) throws -> Double? {
        guard let option = take(name) else { return nil }
        guard let n = option.value?.number else {
            throw SpecError("option '\(name)' needs a number", at: option.location)
        }
        return n
    }

    /// `k=3` or `k=3x1` (height × width).
    mutating func pair(_ name: String, default value: Int? = nil, range: ClosedRange<Int>, what: String) throws -> (Int, Int) {
        guard case .word(let word)? = options[name]?.value else {
            let n = try integer(name, default: value, range: range, what: what)
            return (n, n)
        }
        let at = location(name)
        _ = take(name)
        let parts = word.split(separator: "x")
        guard parts.count == 2, let h = Int(parts[0]), let w = Int(parts[1]), range.contains(h), range.contains(w) else {
            throw SpecError("\(what) must be N or HxW with each in \(range.lowerBound)...\(range.upperBound), found \(word)", at: at)
        }
        return (h, w)
    }

    mutating func integer(_ name: String, default value: Int? = nil, range: ClosedRange<Int>, what: String) throws -> Int {
        let at = location(name)
        guard let n = try number(name) else {
            if let value { return value }
            throw SpecError("missing option '\(name)=' (\(what))", at: rowLocation)
        }
        guard let i = Int(exactly: n), range.contains(i) else {
            throw SpecError("\(what) must be a whole number in \(range.lowerBound)...\(range.upperBound), found \(Value.number(n))", at: at)
        }
        return i
    }

    /// `out=N` scales N by the row's multiplier (`scale=`, default width); `out=NAME` uses a
    /// setting or param as it is (e.g. `out=classes`). Returns the count and its unscaled form.
    mutating func channels(_ name: String, builder b: GraphBuilder) throws -> (count: Int, nominal: Int) {
        guard let option = take(name) else { throw SpecError("missing option '\(name)=' (output channels)", at: rowLocation) }
        let value: Double
        var multiplier = try self.multiplier(builder: b)
        switch option.value {
        case .number(let n)?: value = n
        case .word(let w)?:
            guard let n = b.spec.number(named: w) else {
                throw SpecError("'\(w)' is not a setting or param", at: option.location)
            }
            value = n
            multiplier = 1
        default: throw SpecError("option '\(name)' needs a channel count", at: option.location)
        }
        guard let nominal = Int(exactly: value), (1...65536).contains(nominal) else {
            throw SpecError("channel count must be a whole number in 1...65536, found \(Value.number(value))", at: option.location)
        }
        return (b.scaled(nominal, by: multiplier), nominal)
    }

    private mutating func multiplier(builder b: GraphBuilder) throws -> Double {
        guard let option = take("scale") else { return b.spec.width }
        switch option.value {
        case .number(let n)? where n > 0: return n
        case .word(let w)?:
            guard let n = b.spec.number(named: w), n > 0 else {
                throw SpecError("scale '\(w)' is not a positive setting or param", at: option.location)
            }
            return n
        default: throw SpecError("scale must be a positive number or the name of one", at: option.location)
        }
    }

    mutating func flag(_ name: String) throws -> Bool {
        guard let option = take(name) else { return false }
        guard option.value == nil else { throw SpecError("'\(name)' is a flag and takes no value", at: option.location) }
        return true
    }

    mutating func activation(_ name: String) throws -> Activation {
        guard let option = take(name) else { return .identity }
        guard let word = option.value?.word ?? (option.value == .absent ? "-" : nil), let act = Activation(specName: word) else {
            throw SpecError("unknown activation '\(option.value?.description ?? "")' (known: RE, RE6, HS, hsigmoid, identity)", at: option.location)
        }
        return act
    }

    /// One module name per checkpoint convention: `timm=conv_stem,bn1 torchvision=features.0.0,features.0.1`.
    mutating func moduleNames(count: Int, what: String) throws -> [ModuleName] {
        var perConvention: [[String]] = []
        for convention in conventions {
            guard let option = take(convention) else {
                throw SpecError("missing checkpoint names for convention '\(convention)': add \(convention)=<\(what)>", at: rowLocation)
            }
            let names: [String]
            switch option.value {
            case .word(let w)?: names = [w]
            case .list(let items)?: names = items.compactMap(\.word)
            default: names = []
            }
            guard names.count == count else {
                throw SpecError("'\(convention)=' needs \(count) name\(count == 1 ? "" : "s") (\(what)), found \(option.value?.description ?? "none")", at: option.location)
            }
            perConvention.append(names)
        }
        return (0..<count).map { i in ModuleName(perConvention.map { $0[i] }) }
    }

    mutating func rejectUnknown(op: String) throws {
        if let option = options.values.min(by: { $0.location.column < $1.location.column }) {
            throw SpecError("unknown option '\(option.name)' for \(op)", at: option.location)
        }
    }
}
