/// A spec with its includes expanded and its settings resolved: what the IR is built from.
public struct Spec: Sendable {
    /// The file the spec was loaded from, as given.
    public var file: String
    public var network: String
    public var networkLocation: SourceLocation
    /// Input resolution (square), input channels, class count.
    public var resolution: Int
    public var channels: Int
    public var classes: Int
    /// Width multiplier α; channel counts become make_divisible(c·α, divisor).
    public var width: Double
    public var divisor: Int
    /// Named numbers declared with `param`, plus the settings above under their own names.
    public var numbers: [String: Double]
    /// Params whose value is a word, e.g. `param expansion = ratio`.
    public var words: [String: String]
    public var checkpoints: [CheckpointDecl]
    public var sections: [Section]
    /// Every file read, the spec itself first, for build-system dependencies.
    public var files: [String]
    /// The figures the paper publishes for this network, when the spec records them.
    public var paper: PaperFigures?

    /// Resolves a setting or param by name, for option values such as `out=classes`.
    public func number(named name: String) -> Double? { numbers[name] }

    /// A word given directly, or through a param holding a word.
    public func word(_ value: String) -> String { words[value] ?? value }
}

/// Published figures, for comparison with what speccc counts (`speccc stats --paper`).
public struct PaperFigures: Sendable {
    public var madds: Double?
    public var params: Double?
    public var top1: Double?
    public var source: String?
    /// Why the counts differ, where the counting convention does.
    public var note: String?

    /// Reads `madds=569M params=4.2M top1=70.6 source="…" note="…"`.
    init(_ options: [Option]) throws {
        for option in options {
            switch (option.name, option.value) {
            case ("madds", let value?), ("params", let value?), ("top1", let value?):
                guard let number = PaperFigures.number(value) else {
                    throw SpecError("'\(option.name)' needs a number such as 569M, 4.2M or 70.6", at: option.location)
                }
                switch option.name {
                case "madds": madds = number
                case "params": params = number
                default: top1 = number
                }
            case ("source", .string(let text)?): source = text
            case ("note", .string(let text)?): note = text
            default:
                throw SpecError("unknown paper figure '\(option.name)' (madds, params, top1 as numbers; source, note as quoted text)", at: option.location)
            }
        }
    }

    /// 569M, 4.2M, 41K or a plain number.
    static func number(_ value: Value) -> Double? {
        switch value {
        case .number(let n): return n
        case .word(let w):
            let scale: Double
            switch w.last {
            case "K": scale = 1e3
            case "M": scale = 1e6
            case "G": scale = 1e9
            default: return nil
            }
            return Double(w.dropLast()).map { $0 * scale }
        default: return nil
        }
    }
}

/// Reads a spec and the files it includes, and resolves settings (last one wins).
public enum SpecLoader {
    static let settingNames: Set<String> = ["network", "resolution", "channels", "classes", "width", "divisor"]

    public static func load(_ path: String, from source: some SpecSource) throws -> Spec {
        var state = LoadState()
        try state.expand(path, from: source, includedFrom: nil, stack: [])
        return try state.resolve(file: path)
    }

    /// Parses spec text that lives in memory under `name` (includes are resolved against it).
    public static func load(text: String, name: String, includes source: some SpecSource) throws -> Spec {
        var state = LoadState()
        try state.expand(name, text: text, from: source, stack: [])
        return try state.resolve(file: name)
    }
}

private struct LoadState {
    var settings: [String: Option] = [:]
    var params: [String: Option] = [:]
    var checkpoints: [CheckpointDecl] = []
    var sections: [Section] = []
    var files: [String] = []
    var paper: PaperFigures?

    mutating func expand(_ path: String, from source: some SpecSource, includedFrom: SourceLocation?, stack: [String]) throws {
        let text: String
        do {
            text = try source.read(path)
        } catch let error as SpecError where error.diagnostics.first?.location != nil {
            throw error
        } catch {
            let reason = (error as? SpecError)?.diagnostics.first?.message ?? "\(error)"
            if let includedFrom { throw SpecError("cannot read included spec '\(path)': \(reason)", at: includedFrom) }
            throw SpecError("cannot read spec '\(path)': \(reason)", at: nil)
        }
        try expand(path, text: text, from: source, stack: stack)
    }

    mutating func expand(_ path: String, text: String, from source: some SpecSource, stack: [String]) throws {
        files.append(path)
        let document = try Parser.parse(text, file: path)
        for statement in document.statements {
            switch statement {
            case .setting(let option):
                guard SpecLoader.settingNames.contains(option.name) else {
                    throw SpecError("unknown setting '\(option.name)' (settings are \(SpecLoader.settingNames.sorted().joined(separator: ", ")); declare other numbers with 'param')", at: option.location)
                }
                settings[option.name] = option
            case .param(let option):
                if SpecLoader.settingNames.contains(option.name) {
                    throw SpecError("'\(option.name)' is a setting; write '\(option.name) VALUE' instead of declaring a param", at: option.location)
                }
                if let previous = params[option.name] {
                    throw SpecError("param '\(option.name)' is already declared at \(previous.location)", at: option.location)
                }
                params[option.name] = option
            case .checkpoint(let decl):
                if let previous = checkpoints.firstIndex(where: { $0.name == decl.name }) {
                    checkpoints[previous] = decl
                } else {
                    checkpoints.append(decl)
                }
            case .include(let includePath, let overrides, let location):
                let resolved = Path.resolve(includePath, relativeTo: path)
                if stack.contains(resolved) || resolved == path {
                    throw SpecError("'\(includePath)' includes itself through \((stack + [path]).map(Path.fileName).joined(separator: " -> "))", at: location)
                }
                if files.contains(resolved) {
                    throw SpecError("'\(includePath)' is already included", at: location)
                }
                try expand(resolved, from: source, includedFrom: location, stack: stack + [path])
                for option in overrides {
                    if SpecLoader.settingNames.contains(option.name) {
                        settings[option.name] = option
                    } else if params[option.name] != nil {
                        params[option.name]?.value = option.value
                        params[option.name]?.location = option.location
                    } else {
                        throw SpecError("'\(option.name)' is neither a setting nor a param of '\(includePath)'", at: option.location)
                    }
                }
            case .paper(let options, _):
                paper = try PaperFigures(options)
            case .section(let section):
                sections.append(section)
            }
        }
    }

    func resolve(file: String) throws -> Spec {
        let start = SourceLocation(file: file, line: 1, column: 1)
        guard let networkOption = settings["network"] else {
            throw SpecError("the spec names no network; add 'network NAME'", at: start)
        }
        guard case .word(let network) = networkOption.value,
              network.first?.isLetter == true, network.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw SpecError("network name must be letters, digits and '_', starting with a letter", at: networkOption.location)
        }
        func number(_ name: String, default value: Double) throws -> Double {
            guard let option = settings[name] else { return value }
            guard let n = option.value?.number else {
                throw SpecError("'\(name)' must be a number, found '\(option.value?.description ?? "")'", at: option.location)
            }
            return n
        }
        func integer(_ name: String, default value: Int, range: ClosedRange<Int>, what: String) throws -> Int {
            let n = try number(name, default: Double(value))
            guard n == n.rounded(), let i = Int(exactly: n), range.contains(i) else {
                throw SpecError("\(what) must be a whole number in \(range.lowerBound)...\(range.upperBound), found \(Value.number(n))", at: settings[name]?.location)
            }
            return i
        }
        let width = try number("width", default: 1.0)
        guard width > 0 else {
            throw SpecError("width multiplier must be > 0, found \(Value.number(width))", at: settings["width"]?.location)
        }
        guard width <= 16 else {
            throw SpecError("width multiplier \(Value.number(width)) is absurd (at most 16)", at: settings["width"]?.location)
        }
        let resolution = try integer("resolution", default: 224, range: 1...4096, what: "resolution")
        let channels = try integer("channels", default: 3, range: 1...64, what: "input channels")
        let classes = try integer("classes", default: 1000, range: 1...1_000_000, what: "class count")
        let divisor = try integer("divisor", default: 8, range: 1...256, what: "channel divisor")

        var numbers: [String: Double] = [:]
        var words: [String: String] = [:]
        for (name, option) in params {
            switch option.value {
            case .number(let n)?: numbers[name] = n
            case .word(let w)?: words[name] = w
            default: throw SpecError("param '\(name)' must be a number or a word", at: option.location)
            }
        }
        numbers["width"] = width
        numbers["resolution"] = Double(resolution)
        numbers["channels"] = Double(channels)
        numbers["classes"] = Double(classes)
        numbers["divisor"] = Double(divisor)
        return Spec(
            file: file, network: network, networkLocation: networkOption.location,
            resolution: resolution, channels: channels, classes: classes, width: width, divisor: divisor,
            numbers: numbers, words: words, checkpoints: checkpoints, sections: sections, files: files, paper: paper)
    }
}
