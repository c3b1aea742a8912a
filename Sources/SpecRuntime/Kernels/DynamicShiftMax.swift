import SpecSIMD

/// The gathers of Dynamic Shift-Max, made at load time: for each output position (after
/// any folded shuffles), the channel of x it reads, then the channel of its circular shift,
/// each list padded to 16.
public enum ShiftMaxPacking {
    public static func floats(channels: Int) -> Int { 2 * roundUp(channels, 16) }
}

extension Kernels {
    /// Dynamic Shift-Max (MicroNet): coefficients from pool → fc1 + ReLU → fc2 + hardsigmoid,
    /// mapped to (h - 0.5)·actMax + init, then per pixel and channel j
    /// y = x[a]·A1 + x[b]·B1, or max(x[a]·A1 + x[b]·B1, x[a]·A2 + x[b]·B2) with four
    /// coefficients, where a and b come from the index table, plus `residual` when given. `scratch` holds
    /// channels + squeeze + coefficients·channels floats.
    @inlinable
    public static func dyShiftMax(
        input: UnsafePointer<Float>, pixels: Int, channels: Int, squeeze: Int, coefficients: Int,
        fc1: UnsafePointer<Float>, fc2: UnsafePointer<Float>, indices: UnsafePointer<Float>,
        actMax: Float, initA: (Float, Float), initB: (Float, Float),
        scratch: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, threads: ThreadPool
    ) {
        let means = scratch, squeezed = scratch + channels, coefficientsOut = scratch + channels + squeeze
        globalAveragePool(input: input, pixels: pixels, channels: channels, output: means)
        dense(input: means, inFeatures: channels, weights: fc1, outFeatures: squeeze, output: squeezed, activation: ReLU.self)
        dense(input: squeezed, inFeatures: squeeze, weights: fc2, outFeatures: coefficients * channels, output: coefficientsOut, activation: HardSigmoid.self)
        // fc2's outputs are a1, b1, a2, b2, each `channels` long.
        for e in 0..<coefficients {
            let initial = e == 0 ? initA.0 : e == 1 ? initB.0 : e == 2 ? initA.1 : initB.1
            let block = coefficientsOut + e * channels
            for c in 0..<channels { block[c] = (block[c] - 0.5) * actMax + initial }
        }
        let work = ShiftMax(input: input, output: output, residual: residual, channels: channels, coefficients: coefficientsOut,
                            branches: coefficients / 2, indices: indices)
        threads.parallelChunks(pixels, grain: 32, work)
    }
}

@usableFromInline
struct ShiftMax: ParallelWork {
    @usableFromInline let input: UnsafePointer<Float>
    @usableFromInline let output: UnsafeMutablePointer<Float>
    @usableFromInline let residual: UnsafePointer<Float>?
    @usableFromInline let channels: Int
    @usableFromInline let coefficients: UnsafePointer<Float>
    @usableFromInline let branches: Int
    @usableFromInline let indices: UnsafePointer<Float>

    @inlinable
    init(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, channels: Int,
         coefficients: UnsafeMutablePointer<Float>, branches: Int, indices: UnsafePointer<Float>) {
        self.input = input
        self.output = output
        self.residual = residual
        self.channels = channels
        self.coefficients = UnsafePointer(coefficients)
        self.branches = branches
        self.indices = indices
    }

    @inlinable
    func run(_ pixels: Range<Int>) {
        let padded = roundUp(channels, 16)
        for p in pixels {
            let x = input + p * channels, y = output + p * channels
            var c = 0
            while c < channels {
                let n = min(16, channels - c)
                var xa = Vec.zero, xb = Vec.zero
                for lane in 0..<n {
                    xa[lane] = x[Int(indices[c + lane])]
                    xb[lane] = x[Int(indices[padded + c + lane])]
                }
                let a1 = load(coefficients + c, count: n), b1 = load(coefficients + channels + c, count: n)
                var v = xa * a1 + xb * b1
                if branches == 2 {
                    let a2 = load(coefficients + 2 * channels + c, count: n), b2 = load(coefficients + 3 * channels + c, count: n)
                    v = spec_maximum16(v, xa * a2 + xb * b2)
                }
                if let residual { v += load(residual + p * channels + c, count: n) }
                store(v, y + c, count: n)
                c += 16
            }
        }
    }
}
