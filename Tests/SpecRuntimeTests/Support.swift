import Foundation
import SpecRuntime

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
