/// Why weights or tensors could not be read; always names the file, and the tensor when
/// one is involved.
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var tensor: String?
    public var message: String

    public init(file: String, tensor: String? = nil, _ message: String) {
        self.file = file
        self.tensor = tensor
        self.message = message
    }

    public var description: String {
        if let tensor { return "\(file): tensor '\(tensor)': \(message)" }
        return "\(file): \(message)"
    }
}
