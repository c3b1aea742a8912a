import SpecLang

/// What a table option takes: one of some words, or a list of numbers.
enum TableOption {
    case word([String], default: String)
    case numbers(count: Int, default: [Double])
}

/// A column a block kind reads from its table.
struct ColumnSpec {
    var name: String
    var required: Bool = true
}

/// A kind of block a table's rows describe (`bneck` for MobileNetV3's Table 1, …). It reads
/// its columns from a row and appends the block's unfused layers to the graph.
protocol BlockKind: Sendable {
    static var name: String { get }
    static var columns: [ColumnSpec] { get }
    /// Checkpoint conventions whose key layout inside a block this kind knows.
    static var keyLayouts: [String] { get }
    /// Options the kind reads from its table line (besides key patterns).
    static var tableOptions: [String: TableOption] { get }
    static func lower(_ row: inout BlockRow, into b: inout GraphBuilder) throws
}

enum BlockKinds {
    static let all: [any BlockKind.Type] = [Bneck.self, DepthwiseSeparable.self, InvertedResidual.self, MicroBlock.self]

    static func named(_ name: String) -> (any BlockKind.Type)? { all.first { $0.name == name } }
}

enum TableLowering {
    static func lower(_ table: Table, into b: inout GraphBuilder) throws {
        guard let kind = BlockKinds.named(table.kind) else {
            throw SpecError("unknown block kind '\(table.kind)' (known: \(BlockKinds.all.map { $0.name }.joined(separator: ", ")))", at: table.location)
        }
        let columnList = kind.columns.map { $0.required ? $0.name : "[\($0.name)]" }.joined(separator: " ")
        for column in table.columns where !kind.columns.contains(where: { $0.name == column.name }) {
            throw SpecError("unknown column '\(column.name)' for \(kind.name) blocks (columns: \(columnList))", at: column.location)
        }
        for column in kind.columns where column.required && !table.columns.contains(where: { $0.name == column.name }) {
            throw SpecError("missing column '\(column.name)' for \(kind.name) blocks (columns: \(columnList))", at: table.columns.first?.location ?? table.location)
        }
        let conventions = b.graph.conventions.map(\.name)
        let patterns = try keyPatterns(table, kind: kind, conventions: conventions)
        let options = try kindOptions(table, kind: kind, conventions: conventions, spec: b.spec)
        guard !table.rows.isEmpty else { throw SpecError("table has no rows", at: table.location) }

        var stagesSeen = 0
        for row in table.rows {
            guard row.cells.count == table.columns.count else {
                throw SpecError("row has \(row.cells.count) values but the table has \(table.columns.count) columns (\(table.columns.map(\.name).joined(separator: " ")))", at: row.location)
            }
            var cells: [String: Cell] = [:]
            for (column, cell) in zip(table.columns, row.cells) { cells[column.name] = cell }
            for _ in 0..<row.repeatCount {
                var blockRow = BlockRow(cells: cells, row: row, patterns: patterns, conventions: conventions, options: options,
                                        columnNames: table.columns.map(\.name).joined(separator: " "))
                try kind.lower(&blockRow, into: &b)
            }
            stagesSeen = max(stagesSeen, row.stage + 1)
        }
        b.stageBase += stagesSeen
    }

    /// Options such as `expansion=ratio` or `init_a=1,0.5`, with defaults filled in; a
    /// word may come from a param that holds it.
    static func kindOptions(_ table: Table, kind: any BlockKind.Type, conventions: [String], spec: Spec) throws -> [String: Value] {
        var options: [String: Value] = [:]
        for (name, option) in kind.tableOptions {
            switch option {
            case .word(_, let fallback): options[name] = .word(fallback)
            case .numbers(_, let fallback): options[name] = .list(fallback.map(Value.number))
            }
        }
        for option in table.options where !conventions.contains(option.name) {
            guard let expected = kind.tableOptions[option.name] else {
                let known = kind.tableOptions.keys.sorted() + conventions
                throw SpecError("unknown table option '\(option.name)' for \(kind.name) blocks (known: \(known.joined(separator: ", ")))", at: option.location)
            }
            switch expected {
            case .word(let allowed, _):
                guard let word = option.value?.word.map(spec.word), allowed.contains(word) else {
                    throw SpecError("'\(option.name)' takes \(allowed.joined(separator: " or ")), or a param holding one", at: option.location)
                }
                options[option.name] = .word(word)
            case .numbers(let count, _):
                let values: [Value]
                switch option.value {
                case .number?: values = [option.value!]
                case .list(let items)?: values = items
                default: values = []
                }
                guard values.count == count, values.allSatisfy({ $0.number != nil }) else {
                    throw SpecError("'\(option.name)' takes \(count) number\(count == 1 ? "" : "s")\(count > 1 ? ", separated by commas" : "")", at: option.location)
                }
                options[option.name] = .list(values)
            }
        }
        return options
    }

    /// `timm=blocks.{stage}.{index}`: one key pattern per convention, checked up front.
    static func keyPatterns(_ table: Table, kind: any BlockKind.Type, conventions: [String]) throws -> [String] {
        var patterns: [String: String] = [:]
        for option in table.options where conventions.contains(option.name) {
            guard kind.keyLayouts.contains(option.name) else {
                throw SpecError("\(kind.name) blocks have no '\(option.name)' key layout (known: \(kind.keyLayouts.joined(separator: ", ")))", at: option.location)
            }
            guard let pattern = option.value?.word else {
                throw SpecError("'\(option.name)=' needs a key pattern such as blocks.{stage}.{index}", at: option.location)
            }
            if let bad = KeyPattern.firstUnknownPlaceholder(in: pattern) {
                throw SpecError("unknown placeholder '{\(bad)}' in key pattern (known: {stage}, {index}, {block}, optionally with +N or -N)", at: option.location)
            }
            patterns[option.name] = pattern
        }
        return try conventions.map { (convention) throws -> String in
            guard let pattern = patterns[convention] else {
                throw SpecError("the table needs a key pattern for checkpoint convention '\(convention)', e.g. \(convention)=blocks.{stage}.{index}", at: table.location)
            }
            return pattern
        }
    }
}

/// One block's row values, typed and checked, and its checkpoint names.
struct BlockRow {
    let cells: [String: Cell]
    let row: TableRow
    let patterns: [String]
    let conventions: [String]
    /// The kind's table options, defaults filled in.
    let options: [String: Value]

    func word(_ option: String) -> String { options[option]?.word ?? "" }

    func numbers(_ option: String) -> [Double] {
        if case .list(let items)? = options[option] { return items.compactMap(\.number) }
        return options[option]?.number.map { [$0] } ?? []
    }

    var origin: Origin { Origin(location: row.location, text: row.text, columns: columnNames) }
    let columnNames: String

    func cell(_ column: String) -> Cell? { cells[column] }

    func number(_ column: String) throws -> Double {
        let cell = cells[column]!
        guard let n = cell.value.number else {
            throw SpecError("column '\(column)' needs a number, found '\(cell.value)'", at: cell.location)
        }
        return n
    }

    func integer(_ column: String, range: ClosedRange<Int>, what: String) throws -> Int {
        let n = try number(column)
        guard let i = Int(exactly: n), range.contains(i) else {
            throw SpecError("\(what) must be a whole number in \(range.lowerBound)...\(range.upperBound), found \(Value.number(n))", at: cells[column]!.location)
        }
        return i
    }

    func channels(_ column: String) throws -> Int {
        try integer(column, range: 1...65536, what: "channel count")
    }

    func stride(_ column: String) throws -> Int {
        try integer(column, range: 1...16, what: "stride")
    }

    func kernel(_ column: String) throws -> Int {
        let k = try integer(column, range: 1...15, what: "kernel size")
        guard k % 2 == 1 else {
            throw SpecError("kernel size must be odd (padding is k/2 on each side), found \(k)", at: cells[column]!.location)
        }
        return k
    }

    /// `-` is off; one of `on` is on.
    func flag(_ column: String, on: [String]) throws -> Bool {
        let cell = cells[column]!
        if cell.value == .absent { return false }
        guard let word = cell.value.word, on.contains(word) else {
            throw SpecError("column '\(column)' takes \(on.joined(separator: " or ")) or -, found '\(cell.value)'", at: cell.location)
        }
        return true
    }

    func activation(_ column: String) throws -> Activation {
        let cell = cells[column]!
        guard let word = cell.value.word, let act = Activation(specName: word) else {
            throw SpecError("unknown activation '\(cell.value)' in column '\(column)' (known: RE, RE6, HS, identity)", at: cell.location)
        }
        return act
    }

    /// Claims the next block number and returns the block's names.
    func nextBlock(_ b: inout GraphBuilder) -> BlockNames {
        let stage = b.stageBase + row.stage
        let index = b.blocksInStage[stage, default: 0]
        b.blocksInStage[stage] = index + 1
        let place = BlockPlace(block: b.blockCount, stage: stage, index: index)
        b.blockCount += 1
        let prefixes = patterns.map { KeyPattern.expand($0, place: place) }
        return BlockNames(place: place, prefixes: prefixes, conventions: conventions)
    }
}

/// A block's checkpoint prefix under each convention, and its node-name prefix.
struct BlockNames {
    let place: BlockPlace
    let prefixes: [String]
    let conventions: [String]

    var node: String { "block\(place.block)" }

    /// The module `<prefix>.<suffix>` where the suffix depends on the convention's layout.
    func module(_ suffix: (String) -> String) -> ModuleName {
        ModuleName(zip(prefixes, conventions).map { prefix, convention in prefix + "." + suffix(convention) })
    }
}

/// Placeholders in block key patterns: {stage}, {index}, {block}, each optionally ±N.
enum KeyPattern {
    static func firstUnknownPlaceholder(in pattern: String) -> String? {
        for placeholder in placeholders(in: pattern) where parse(placeholder) == nil { return placeholder }
        return nil
    }

    static func expand(_ pattern: String, place: BlockPlace) -> String {
        var result = pattern
        for placeholder in placeholders(in: pattern) {
            guard let (name, offset) = parse(placeholder) else { continue }
            let base = name == "stage" ? place.stage : name == "index" ? place.index : place.block
            result = result.replacingOccurrences(of: "{\(placeholder)}", with: String(base + offset))
        }
        return result
    }

    private static func placeholders(in pattern: String) -> [String] {
        var found: [String] = []
        var rest = pattern[...]
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { found.append(String(rest[rest.index(after: open)...])); break }
            found.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return found
    }

    private static func parse(_ placeholder: String) -> (String, Int)? {
        for name in ["stage", "index", "block"] where placeholder.hasPrefix(name) {
            let tail = placeholder.dropFirst(name.count)
            if tail.isEmpty { return (name, 0) }
            guard let sign = tail.first, sign == "+" || sign == "-", let n = Int(tail.dropFirst()) else { return nil }
            return (name, sign == "+" ? n : -n)
        }
        return nil
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

extension Substring {
    func range(of target: String) -> Range<Index>? {
        guard !target.isEmpty, count >= target.count else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(target) { return i..<self.index(i, offsetBy: target.count) }
            i = index(after: i)
        }
        return nil
    }
}
