import SpecLang

/// Identifies a node; each node produces one tensor, so this names that tensor too.
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var raw: Int
    public init(_ raw: Int) { self.raw = raw }
    public static func < (a: NodeID, b: NodeID) -> Bool { a.raw < b.raw }
    public var description: String { "%\(raw)" }
}

/// Shape of one image's tensor, channels × height × width. The batch dimension is not part
/// of the IR: generated code runs images one after another through the same arena.
public struct TensorShape: Hashable, Sendable, CustomStringConvertible {
    public var channels: Int
    public var height: Int
    public var width: Int

    public init(channels: Int, height: Int, width: Int) {
        self.channels = channels
        self.height = height
        self.width = width
    }

    public var elementCount: Int { channels * height * width }
    public var pixels: Int { height * width }
    public var description: String { "\(channels)x\(height)x\(width)" }
}

/// Elementwise nonlinearities, with the exact formulas PyTorch uses.
public enum Activation: String, Hashable, Sendable, CaseIterable {
    case identity
    case relu
    case relu6
    /// x · relu6(x + 3) / 6
    case hardswish
    /// relu6(x + 3) / 6 (torch, timm, torchvision)
    case hardsigmoid

    /// Accepts the papers' abbreviations (RE, HS, RE6) and the full names.
    public init?(specName: String) {
        switch specName.lowercased() {
        case "re", "relu": self = .relu
        case "re6", "relu6": self = .relu6
        case "hs", "hswish", "hardswish", "h_swish": self = .hardswish
        case "hsig", "hsigmoid", "hardsigmoid", "h_sigmoid": self = .hardsigmoid
        case "id", "identity", "linear", "none", "-": self = .identity
        default: return nil
        }
    }
}

/// A checkpoint key-naming convention the network accepts, and what it implies.
public struct Convention: Hashable, Sendable {
    public var name: String
    /// BatchNorm eps: not stored in checkpoints, so it comes with the convention.
    public var batchNormEps: Double

    public init(name: String, batchNormEps: Double) {
        self.name = name
        self.batchNormEps = batchNormEps
    }
}

/// The module a parameter comes from, under each of the graph's conventions (same order),
/// e.g. ["blocks.1.0.conv_pw", "features.2.block.0.0"]. Tensors are `<module>.weight`, …
public struct ModuleName: Hashable, Sendable, CustomStringConvertible {
    public var perConvention: [String]
    public init(_ perConvention: [String]) { self.perConvention = perConvention }
    public var description: String { perConvention.first ?? "?" }
}

/// Where a node came from: the spec row that produced it, quoted in dumps and generated code.
public struct Origin: Hashable, Sendable {
    public var location: SourceLocation
    public var text: String
    /// For a table row, the table's column names, so the row can be read on its own.
    public var columns: String?

    public init(location: SourceLocation, text: String, columns: String? = nil) {
        self.location = location
        self.text = text
        self.columns = columns
    }

    /// The row as quoted in generated code: `3  64  24  -  RE  2   (k exp out se nl s)`.
    public var quoted: String { columns.map { "\(text)   (\($0))" } ?? text }
}

/// make_divisible as timm, torchvision and the papers' code define it: round to the nearest
/// multiple of `divisor`, at least `divisor`, and never more than 10% below `value`.
public func makeDivisible(_ value: Double, divisor: Int = 8) -> Int {
    var rounded = max(divisor, Int(value + Double(divisor) / 2) / divisor * divisor)
    if Double(rounded) < 0.9 * value { rounded += divisor }
    return rounded
}
