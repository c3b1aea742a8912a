import Foundation
import SpecRuntime
import Testing

/// A checkpoint held in a dictionary.
struct MemoryCheckpoint: Checkpoint {
    var tensors: [String: TensorData]
    var source = "memory.safetensors"

    init(_ tensors: [String: TensorData]) { self.tensors = tensors }

    var tensorNames: [String] { tensors.keys.sorted() }
    func tensor(named name: String) throws -> TensorData? { tensors[name] }
}

extension Dictionary {
    func mapKeys(_ transform: (Key) -> Key) -> [Key: Value] {
        Dictionary(uniqueKeysWithValues: map { (transform($0.key), $0.value) })
    }
}

func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("speccc-\(UUID().uuidString)-\(name)").path
}

/// Every element within 1e-5 of the expected value, relative to max(1, |expected|). A NaN
/// anywhere fails: `max()` over the errors would skip it.
func expectClose(_ actual: [Float], _ expected: [Float], sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
    let errors = zip(actual, expected).map { abs($0 - $1) / max(1, abs($1)) }
    let worst = errors.firstIndex { !($0 <= 1e-5) }
    #expect(worst == nil, "element \(worst ?? 0): \(worst.map { actual[$0] } ?? 0) against \(worst.map { expected[$0] } ?? 0)",
            sourceLocation: sourceLocation)
}
