/// The gathers of Dynamic Shift-Max, made at load time: for each output position (after
/// any folded shuffles), the channel of x it reads, then the channel of its circular shift,
/// each list padded to 16 and stored as Int32 bit patterns in the float buffer.
public enum ShiftMaxPacking {
    public static func floats(channels: Int) -> Int { 2 * roundUp(channels, 16) }
}

extension Kernels {
    /// Dynamic Shift-Max (MicroNet): coefficients from pool → fc1 + ReLU → fc2 + hardsigmoid,
    /// mapped to (h - 0.5)·actMax + init, then per pixel and channel j
    /// y = x[a]·A1 + x[b]·B1, or max(x[a]·A1 + x[b]·B1, x[a]·A2 + x[b]·B2) with four
    /// coefficients, where a and b come from the index table, plus `residual` when given. `scratch` holds
    /// channels + squeeze + coefficients·channels floats.
    @inlinable @inline(__always)
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

    /// Scalar on purpose: every element is a gather, and gathers built lane by lane into SIMD
    /// vectors cost far more than these plain loads. The branch count and the residual are
    /// made constants of four copies of the loop, which then holds no test.
    @inlinable @inline(__always)
    func run(_ pixels: Range<Int>) {
        switch (branches == 2, residual != nil) {
        case (false, false): run(pixels, twoBranches: false, addResidual: false)
        case (false, true): run(pixels, twoBranches: false, addResidual: true)
        case (true, false): run(pixels, twoBranches: true, addResidual: false)
        case (true, true): run(pixels, twoBranches: true, addResidual: true)
        }
    }

    @inlinable @inline(__always)
    func run(_ pixels: Range<Int>, twoBranches: Bool, addResidual: Bool) {
        let padded = roundUp(channels, 16)
        let sourceA = UnsafeRawPointer(indices), sourceB = UnsafeRawPointer(indices + padded)
        let a1 = coefficients, b1 = coefficients + channels, a2 = coefficients + 2 * channels, b2 = coefficients + 3 * channels
        let residualBase = residual ?? input
        for p in pixels {
            let x = input + p * channels, y = output + p * channels, r = residualBase + p * channels
            for c in 0..<channels {
                let xa = x[Int(sourceA.load(fromByteOffset: 4 * c, as: Int32.self))]
                let xb = x[Int(sourceB.load(fromByteOffset: 4 * c, as: Int32.self))]
                var v = xa * a1[c] + xb * b1[c]
                if twoBranches { v = max(v, xa * a2[c] + xb * b2[c]) }
                if addResidual { v += r[c] }
                y[c] = v
            }
        }
    }
}
