/// Deterministic weights for a network, in any of its naming conventions: for benchmarks
/// and demos without a trained checkpoint, and for exporting the same weights to peers.
/// Each tensor's values depend only on its name and the seed.
public struct SyntheticCheckpoint: Checkpoint {
    public let info: NetworkInfo
    public let convention: Int
    public let seed: UInt64
    private let shapes: [String: [Int]]
    public let tensorNames: [String]

    public init(_ info: NetworkInfo, convention: Int = 0, seed: UInt64 = 0x5EC_CC) {
        self.info = info
        self.convention = convention
        self.seed = seed
        var shapes: [String: [Int]] = [:]
        var names: [String] = []
        for layer in info.layers {
            for (name, shape) in layer.tensors(convention: convention) {
                shapes[name] = shape
                names.append(name)
            }
        }
        self.shapes = shapes
        self.tensorNames = names
    }

    public var source: String { "synthetic weights (seed \(seed), \(info.conventions[convention].name) names)" }

    public func tensor(named name: String) throws -> TensorData? {
        guard let shape = shapes[name] else { return nil }
        var random = SplitMix64(seed: seed ^ fnv1a(name))
        let count = shape.reduce(1, *)
        let (low, high): (Float, Float)
        if name.hasSuffix(".running_var") {
            (low, high) = (0.5, 1.5)
        } else if name.hasSuffix(".running_mean") || name.hasSuffix(".bias") {
            (low, high) = (-0.1, 0.1)
        } else if shape.count == 1 {
            (low, high) = (0.5, 1.5)  // BatchNorm γ
        } else {
            // Uniform with variance 1/fan-in keeps activations near unit scale through the net.
            let bound = (3 / Float(shape.dropFirst().reduce(1, *))).squareRoot()
            (low, high) = (-bound, bound)
        }
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            var i = 0
            while i < count { buffer[i] = random.uniform(low, high); i += 1 }
            initialized = count
        }
        return TensorData(shape: shape, floats: values)
    }

    private func fnv1a(_ s: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in s.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}

/// Small, fast, reproducible random numbers (Steele et al.'s SplitMix64).
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [low, high), from the top 24 bits.
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * Float(next() >> 40) / Float(1 << 24)
    }
}
