import SpecSIMD

/// The gathers of Dynamic Shift-Max, made at load time: for each output position (after
/// any folded shuffles), the channel of x it reads, then the channel of its circular shift,
/// each list padded to 16 and stored as Int32 bit patterns in the float buffer.
///
/// Then the same gathers as permutes, for 16 outputs at a time: per chunk of 16 positions
/// the number of steps for x[a] and for x[b], then those steps. A step is two windows of
/// 16 channels (their first channels), a lane mask and 16 permute indices (0–15 into the
/// first window, 16–31 into the second); it fills the lanes whose sources lie in its
/// windows. Each step covers at least two lanes, so a chunk needs at most 8 per list.
public enum ShiftMaxPacking {
    @usableFromInline static let stepInts = 20
    @usableFromInline static let chunkInts = 2 + 2 * 8 * stepInts

    public static func floats(channels: Int) -> Int { 2 * roundUp(channels, 16) + roundUp(channels, 16) / 16 * chunkInts }

    /// The permute steps that gather `sources` (one chunk of at most 16 positions) from
    /// windows inside [0, channels), as Int32s: [w1, w2, mask, 0, index × 16] each.
    static func steps(gathering sources: ArraySlice<Int>, channels: Int) -> [Int32] {
        var left = Array(sources.indices.map { $0 - sources.startIndex }), out: [Int32] = []
        let window = { (lowest: Int) in min(lowest, channels - 16) }
        while !left.isEmpty {
            let first = window(left.map { sources[sources.startIndex + $0] }.min()!)
            var indices = [Int32](repeating: 0, count: 16), mask = 0
            var second = first
            for lane in left where (first..<first + 16).contains(sources[sources.startIndex + lane]) {
                indices[lane] = Int32(sources[sources.startIndex + lane] - first)
                mask |= 1 << lane
            }
            left.removeAll { mask >> $0 & 1 == 1 }
            if let lowest = left.map({ sources[sources.startIndex + $0] }).min() {
                second = window(lowest)
                for lane in left where (second..<second + 16).contains(sources[sources.startIndex + lane]) {
                    indices[lane] = Int32(16 + sources[sources.startIndex + lane] - second)
                    mask |= 1 << lane
                }
                left.removeAll { mask >> $0 & 1 == 1 }
            }
            out += [Int32(first), Int32(second), Int32(mask), 0] + indices
        }
        return out
    }
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
                            branches: coefficients / 2, indices: indices, permutes: Kernels.has32VectorRegisters && channels >= 16)
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
    @usableFromInline let permutes: Bool

    @inlinable
    init(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, channels: Int,
         coefficients: UnsafeMutablePointer<Float>, branches: Int, indices: UnsafePointer<Float>, permutes: Bool) {
        self.input = input
        self.output = output
        self.residual = residual
        self.channels = channels
        self.coefficients = UnsafePointer(coefficients)
        self.branches = branches
        self.indices = indices
        self.permutes = permutes
    }

    /// The branch count and the residual are made constants of four copies of each loop,
    /// which then holds no test.
    @inlinable @inline(__always)
    func run(_ pixels: Range<Int>) {
        switch (branches == 2, residual != nil, permutes) {
        case (false, false, false): run(pixels, twoBranches: false, addResidual: false)
        case (false, true, false): run(pixels, twoBranches: false, addResidual: true)
        case (true, false, false): run(pixels, twoBranches: true, addResidual: false)
        case (true, true, false): run(pixels, twoBranches: true, addResidual: true)
        case (false, false, true): runPermuting(pixels, twoBranches: false, addResidual: false)
        case (false, true, true): runPermuting(pixels, twoBranches: false, addResidual: true)
        case (true, false, true): runPermuting(pixels, twoBranches: true, addResidual: false)
        case (true, true, true): runPermuting(pixels, twoBranches: true, addResidual: true)
        }
    }

    /// 16 outputs at a time, their inputs gathered by the packed permute steps: on AVX-512 a
    /// step is two loads and one two-source permute where the scalar loop does 16 loads.
    @inlinable @inline(__always)
    func runPermuting(_ pixels: Range<Int>, twoBranches: Bool, addResidual: Bool) {
        let padded = roundUp(channels, 16)
        let plan = UnsafeRawPointer(indices + 2 * padded)
        let a1 = coefficients, b1 = coefficients + channels, a2 = coefficients + 2 * channels, b2 = coefficients + 3 * channels
        let residualBase = residual ?? input
        for p in pixels {
            let x = input + p * channels, y = output + p * channels, r = residualBase + p * channels
            for c in stride(from: 0, to: channels, by: 16) {
                let chunk = plan + (c / 16) * ShiftMaxPacking.chunkInts * 4
                let stepsA = Int(chunk.load(as: Int32.self)), stepsB = Int(chunk.load(fromByteOffset: 4, as: Int32.self))
                var step = chunk + 8
                var xa = Vec.zero, xb = Vec.zero
                for _ in 0..<stepsA {
                    xa = permute(into: xa, x, step)
                    step += 4 * ShiftMaxPacking.stepInts
                }
                for _ in 0..<stepsB {
                    xb = permute(into: xb, x, step)
                    step += 4 * ShiftMaxPacking.stepInts
                }
                let count = min(16, channels - c)
                var v = xa * load(a1 + c, count: count) + xb * load(b1 + c, count: count)
                if twoBranches { v = spec_maximum16(v, xa * load(a2 + c, count: count) + xb * load(b2 + c, count: count)) }
                if addResidual { v += load(r + c, count: count) }
                store(v, y + c, count: count)
            }
        }
    }

    /// One packed step: [w1, w2, mask, 0, index × 16].
    @inlinable @inline(__always)
    func permute(into v: Vec, _ x: UnsafePointer<Float>, _ step: UnsafeRawPointer) -> Vec {
        let first = Int(step.load(as: Int32.self)), second = Int(step.load(fromByteOffset: 4, as: Int32.self))
        let mask = step.load(fromByteOffset: 8, as: Int32.self)
        return spec_permute_merge16(v, x + first, x + second, (step + 16).assumingMemoryBound(to: Int32.self), mask)
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
