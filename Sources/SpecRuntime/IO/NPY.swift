import Foundation

/// NumPy's .npy format (versions 1–3), for float32 arrays in C order: what
/// `np.save(path, tensor.numpy())` writes for a PyTorch tensor.
public enum NPY {
    public struct Array: Sendable {
        public var shape: [Int]
        public var values: [Float]

        public init(shape: [Int], values: [Float]) {
            self.shape = shape
            self.values = values
        }
    }

    public static func read(path: String) throws -> Array {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CheckpointError(file: path, "cannot read the file: \(error.localizedDescription)")
        }
        return try decode(data, source: path)
    }

    public static func decode(_ data: Data, source: String) throws -> Array {
        func fail(_ message: String) -> CheckpointError { CheckpointError(file: source, message) }
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Swift.Array(bytes[1..<6]) == Swift.Array("NUMPY".utf8) else {
            throw fail("not a .npy file (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let headerStart: Int, headerLength: Int
        switch major {
        case 1:
            headerStart = 10
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated .npy header") }
            headerStart = 12
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        default:
            throw fail("unsupported .npy version \(major)")
        }
        guard headerStart + headerLength <= bytes.count,
              let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw fail("truncated .npy header")
        }
        guard let descr = field("descr", in: header).map(unquote) else { throw fail("the .npy header has no 'descr'") }
        guard field("fortran_order", in: header)?.hasPrefix("False") == true else {
            throw fail("Fortran-ordered arrays are not supported; save a C-ordered array (np.ascontiguousarray)")
        }
        guard let shapeText = field("shape", in: header), shapeText.hasPrefix("("), let close = shapeText.firstIndex(of: ")") else {
            throw fail("the .npy header has no 'shape'")
        }
        let dims = shapeText[shapeText.index(after: shapeText.startIndex)..<close]
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = dims.compactMap { Int($0) }
        guard shape.count == dims.count, shape.allSatisfy({ $0 >= 0 }) else { throw fail("bad shape \(shapeText[...close])") }
        let count = shape.reduce(1, *)
        let body = headerStart + headerLength
        let elementSize: Int
        switch descr {
        case "<f4", "=f4", "f4": elementSize = 4
        case "<f8", "=f8", "f8": elementSize = 8
        default: throw fail("unsupported dtype '\(descr)': expected little-endian float32 ('<f4') or float64 ('<f8')")
        }
        guard bytes.count - body >= count * elementSize else {
            throw fail("file is truncated: shape \(shape) needs \(count * elementSize) bytes of data, found \(bytes.count - body)")
        }
        let values = bytes.withUnsafeBytes { raw in
            (0..<count).map { i in
                elementSize == 4 ? raw.loadUnaligned(fromByteOffset: body + 4 * i, as: Float.self)
                    : Float(raw.loadUnaligned(fromByteOffset: body + 8 * i, as: Double.self))
            }
        }
        return Array(shape: shape, values: values)
    }

    /// A version 1.0 file of little-endian float32, header padded to 64 bytes.
    public static func encode(_ array: Array) -> Data {
        let shape = array.shape.count == 1 ? "(\(array.shape[0]),)" : "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out = Data([0x93] + Swift.Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        out.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        out.append(contentsOf: Swift.Array(header.utf8))
        array.values.withUnsafeBytes { out.append(contentsOf: $0) }
        return out
    }

    public static func write(_ array: Array, to path: String) throws {
        do {
            try encode(array).write(to: URL(fileURLWithPath: path))
        } catch {
            throw CheckpointError(file: path, "cannot write the file: \(error.localizedDescription)")
        }
    }

    /// The text after `'key':` up to the next top-level comma.
    private static func field(_ key: String, in header: String) -> String? {
        guard let range = header.range(of: "'\(key)':") else { return nil }
        return String(header[range.upperBound...]).trimmingCharacters(in: .whitespaces)
    }

    private static func unquote(_ text: String) -> String {
        guard let first = text.first, first == "'" || first == "\"" else { return text }
        let rest = text.dropFirst()
        guard let end = rest.firstIndex(of: first) else { return String(rest) }
        return String(rest[..<end])
    }
}
