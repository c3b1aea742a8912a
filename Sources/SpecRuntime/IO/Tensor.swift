/// Element types found in safetensors and .npy files.
public enum DType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    public var byteSize: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8, .u8, .bool: return 1
        }
    }

    public var isFloatingPoint: Bool { [.f64, .f32, .f16, .bf16].contains(self) }
}

/// A tensor held in a file or in memory: its type, shape and little-endian bytes.
public struct TensorData: Sendable {
    public var dtype: DType
    public var shape: [Int]
    public var bytes: [UInt8]

    public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    public init(shape: [Int], floats: [Float]) {
        dtype = .f32
        self.shape = shape
        bytes = floats.withUnsafeBytes { [UInt8]($0) }
    }

    public var elementCount: Int { shape.reduce(1, *) }

    /// The values as Float; floating-point types only (F16 and BF16 widen exactly, F64 rounds).
    public func floats() -> [Float]? {
        let n = elementCount
        guard bytes.count == n * dtype.byteSize, dtype.isFloatingPoint else { return nil }
        return [Float](unsafeUninitializedCapacity: n) { out, initialized in
            bytes.withUnsafeBytes { raw in
                switch dtype {
                case .f32:
                    UnsafeMutableRawBufferPointer(out).copyMemory(from: raw)
                case .f64:
                    var i = 0
                    while i < n { out[i] = Float(raw.loadUnaligned(fromByteOffset: i * 8, as: Double.self)); i += 1 }
                case .f16:
                    var i = 0
                    while i < n { out[i] = Float(float16Bits: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)); i += 1 }
                default:  // .bf16: the upper half of a Float
                    var i = 0
                    while i < n { out[i] = Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) << 16); i += 1 }
                }
            }
            initialized = n
        }
    }
}

extension Float {
    /// IEEE half precision to single, exactly (no Float16 type needed on every platform).
    init(float16Bits h: UInt16) {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            self = Float(sign: sign != 0 ? .minus : .plus, exponent: -24, significand: Float(mantissa))
        } else if exponent == 31 {
            self = Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        } else {
            self = Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
        }
    }
}

/// Where a network's weights come from: a safetensors file, or generated values.
public protocol Checkpoint {
    /// Names the source in errors (a file path, or "synthetic weights").
    var source: String { get }
    var tensorNames: [String] { get }
    func tensor(named name: String) throws -> TensorData?
}
