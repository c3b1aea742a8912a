import Foundation

/// A safetensors file (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// header length, a JSON header {name: {dtype, shape, data_offsets}}, then the data.
/// Everything is checked on open, so a truncated or corrupt file is an error, not a crash.
public struct SafeTensorsFile: Checkpoint {
    public struct Entry: Sendable {
        public var dtype: DType
        public var shape: [Int]
        public var byteRange: Range<Int>
    }

    public let source: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    private let data: Data
    private let dataStart: Int

    public var tensorNames: [String] { entries.keys.sorted() }

    public init(path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw CheckpointError(file: path, "cannot read the file: \(error.localizedDescription)")
        }
        try self.init(data: data, source: path)
    }

    public init(data: Data, source: String) throws {
        self.source = source
        self.data = data
        func fail(_ message: String, _ tensor: String? = nil) -> CheckpointError {
            CheckpointError(file: source, tensor: tensor, message)
        }
        guard data.count >= 8 else { throw fail("not a safetensors file: \(data.count) bytes is too short for a header") }
        let headerLength = data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian
        guard headerLength <= UInt64(data.count - 8), headerLength <= 100_000_000 else {
            throw fail("corrupt header: it claims \(headerLength) bytes, the file holds \(data.count - 8) after the length")
        }
        dataStart = 8 + Int(headerLength)
        let header: Any
        do {
            header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<dataStart))
        } catch {
            throw fail("corrupt header: not valid JSON")
        }
        guard let dictionary = header as? [String: Any] else { throw fail("corrupt header: not a JSON object") }
        let dataSize = data.count - dataStart
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in dictionary {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let fields = value as? [String: Any],
                  let dtypeName = fields["dtype"] as? String,
                  let shapeValues = fields["shape"] as? [Any],
                  let offsetValues = fields["data_offsets"] as? [Any], offsetValues.count == 2 else {
                throw fail("corrupt header entry: needs dtype, shape and data_offsets", name)
            }
            guard let dtype = DType(rawValue: dtypeName) else { throw fail("unsupported dtype \(dtypeName)", name) }
            let shape = shapeValues.compactMap { ($0 as? NSNumber)?.intValue }
            let offsets = offsetValues.compactMap { ($0 as? NSNumber)?.intValue }
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 && $0 < 1 << 31 }),
                  offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw fail("corrupt header entry: bad shape or data_offsets", name)
            }
            let (elements, overflow) = shape.reduce((1, false)) { acc, d in
                let (product, o) = acc.0.multipliedReportingOverflow(by: d)
                return (product, acc.1 || o)
            }
            guard !overflow, elements * dtype.byteSize == offsets[1] - offsets[0] else {
                throw fail("corrupt header entry: shape \(shape) of \(dtype.rawValue) does not match its \(offsets[1] - offsets[0]) bytes", name)
            }
            guard offsets[1] <= dataSize else {
                throw fail("file is truncated: the tensor's data ends at byte \(offsets[1]) of a \(dataSize)-byte data section", name)
            }
            entries[name] = Entry(dtype: dtype, shape: shape, byteRange: offsets[0]..<offsets[1])
        }
        self.entries = entries
        self.metadata = metadata
    }

    public func tensor(named name: String) throws -> TensorData? {
        guard let entry = entries[name] else { return nil }
        let range = (dataStart + entry.byteRange.lowerBound)..<(dataStart + entry.byteRange.upperBound)
        return TensorData(dtype: entry.dtype, shape: entry.shape, bytes: [UInt8](data[range]))
    }

    /// Serializes tensors in the format torch's `safetensors.torch.save_file` writes.
    public static func encode(_ tensors: [(name: String, tensor: TensorData)], metadata: [String: String] = [:]) -> Data {
        var header: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            header.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for (name, tensor) in tensors {
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            header.append("\(jsonString(name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + tensor.bytes.count)]}")
            offset += tensor.bytes.count
        }
        var headerBytes = Array(("{" + header.joined(separator: ",") + "}").utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for (_, tensor) in tensors { out.append(contentsOf: tensor.bytes) }
        return out
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
