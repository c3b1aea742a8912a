/// A value written in a spec: a table cell, an option's value or a setting.
public enum Value: Hashable, Sendable, CustomStringConvertible {
    case number(Double)
    case word(String)
    case string(String)
    case list([Value])
    /// `-` in a table cell: the column does not apply to this row (no SE, say).
    case absent

    public var number: Double? { if case .number(let n) = self { return n } else { return nil } }
    public var word: String? { if case .word(let w) = self { return w } else { return nil } }

    public var description: String {
        switch self {
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : String(n)
        case .word(let w): return w
        case .string(let s): return "\"\(s)\""
        case .list(let items): return items.map(\.description).joined(separator: ",")
        case .absent: return "-"
        }
    }
}

/// `key=value`, or a bare `flag` (value nil).
public struct Option: Hashable, Sendable {
    public var name: String
    public var value: Value?
    public var location: SourceLocation

    public init(name: String, value: Value?, location: SourceLocation) {
        self.name = name
        self.value = value
        self.location = location
    }
}

/// One line of a `stem` or `head` section: an operation and its options,
/// e.g. `conv k=3 s=2 out=16 act=HS timm=conv_stem,bn1`.
public struct LayerRow: Hashable, Sendable {
    public var op: String
    public var options: [Option]
    /// The line as written, without its comment; quoted in generated code.
    public var text: String
    public var location: SourceLocation
}

/// A column named in a table's header line.
public struct Column: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
}

/// A value in a table row, with where it was written.
public struct Cell: Hashable, Sendable {
    public var value: Value
    public var location: SourceLocation
}

/// One row of a block table, as the paper prints it.
public struct TableRow: Hashable, Sendable {
    public var cells: [Cell]
    /// From a trailing `xN`: the row stands for N identical rows.
    public var repeatCount: Int
    /// Index of the `stage` group the row belongs to (each row is its own stage when the
    /// table has no `stage` lines).
    public var stage: Int
    public var text: String
    public var location: SourceLocation
}

/// `blocks KIND options…` followed by a header of column names, rows and `end`.
public struct Table: Hashable, Sendable {
    public var kind: String
    public var options: [Option]
    public var columns: [Column]
    public var rows: [TableRow]
    public var location: SourceLocation
}

/// The network body, in order: stem layers, block tables, head layers.
public enum Section: Hashable, Sendable {
    case stem([LayerRow], location: SourceLocation)
    case table(Table)
    case head([LayerRow], location: SourceLocation)
}

/// `checkpoint NAME options…`: a key-naming convention the network accepts, with the
/// settings that checkpoints of that convention imply (BatchNorm eps).
public struct CheckpointDecl: Hashable, Sendable {
    public var name: String
    public var options: [Option]
    public var location: SourceLocation
}

/// One top-level line (or section) of a spec file.
public enum Statement: Hashable, Sendable {
    /// `width 0.75`, `network mobilenet_v3_large`, …
    case setting(Option)
    /// `param head_width = 1.0`: a named number the spec's rows can refer to.
    case param(Option)
    case checkpoint(CheckpointDecl)
    /// `include "base.spec" width=0.5`: the other file's statements, then these overrides.
    case include(path: String, overrides: [Option], location: SourceLocation)
    /// `paper madds=569M params=4.2M source="…" note="…"`: the published figures.
    case paper([Option], location: SourceLocation)
    case section(Section)
}

/// A parsed spec file, before includes and settings are resolved.
public struct SpecDocument: Hashable, Sendable {
    public var file: String
    public var statements: [Statement]
}
