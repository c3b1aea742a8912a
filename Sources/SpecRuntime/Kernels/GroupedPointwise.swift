import SpecSIMD

/// 1×1 convolution with groups: one small GEMM per group on its slice of channels, with the
/// 6×16 tile of the pointwise kernel. Outputs whose order a channel shuffle changed are
/// stored through a table of positions.
///
/// Packed per group: panels of 16 of its output channels, each [in per group][16], then
/// 16 biases per panel; then, for every output channel, its position in the output (as an
/// integer in a float).
public enum GroupedPointwisePacking {
    public static func floats(outChannels: Int, inChannelsPerGroup: Int, groups: Int) -> Int {
        let panels = groups * ((outChannels / groups + 15) / 16)
        return panels * 16 * (inChannelsPerGroup + 1) + outChannels
    }
}

extension Kernels {
    @inlinable
    public static func groupedPointwiseConv<A: ActivationFunction>(
        input: UnsafePointer<Float>, pixels: Int, inChannels: Int, groups: Int,
        weights: UnsafePointer<Float>, outChannels: Int, shuffled: Bool,
        residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
        activation: A.Type, threads: ThreadPool
    ) {
        let work = GroupedPointwise<A>(input: input, pixels: pixels, inChannels: inChannels, groups: groups, weights: weights,
                                       outChannels: outChannels, shuffled: shuffled, residual: residual, output: output)
        threads.parallelChunks((pixels + 5) / 6, grain: 4, work)
    }
}

@usableFromInline
struct GroupedPointwise<A: ActivationFunction>: ParallelWork {
    @usableFromInline let input: UnsafePointer<Float>
    @usableFromInline let pixels: Int
    @usableFromInline let inChannels: Int
    @usableFromInline let groups: Int
    @usableFromInline let weights: UnsafePointer<Float>
    @usableFromInline let outChannels: Int
    @usableFromInline let shuffled: Bool
    @usableFromInline let residual: UnsafePointer<Float>?
    @usableFromInline let output: UnsafeMutablePointer<Float>

    @inlinable
    init(input: UnsafePointer<Float>, pixels: Int, inChannels: Int, groups: Int, weights: UnsafePointer<Float>,
         outChannels: Int, shuffled: Bool, residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        self.input = input
        self.pixels = pixels
        self.inChannels = inChannels
        self.groups = groups
        self.weights = weights
        self.outChannels = outChannels
        self.shuffled = shuffled
        self.residual = residual
        self.output = output
    }

    @inlinable
    func run(_ tiles: Range<Int>) {
        let k = inChannels / groups, perGroup = outChannels / groups
        let panelsPerGroup = (perGroup + 15) / 16
        let panels = groups * panelsPerGroup
        let biases = weights + panels * 16 * k
        let positions = biases + panels * 16
        for tile in tiles {
            let p0 = tile * 6
            let rows = min(6, pixels - p0)
            for g in 0..<groups {
                let a = input + p0 * inChannels + g * k
                for panel in 0..<panelsPerGroup {
                    let index = g * panelsPerGroup + panel
                    let b = weights + index * 16 * k
                    let bias = load(biases + index * 16)
                    let first = g * perGroup + panel * 16
                    let valid = min(16, perGroup - panel * 16)
                    if rows == 6 {
                        let (c0, c1, c2, c3, c4, c5) = Kernels.accumulate6x16(a: a, lda: inChannels, k: k, b: b)
                        store(c0, row: p0, bias: bias, first: first, valid: valid, positions: positions)
                        store(c1, row: p0 + 1, bias: bias, first: first, valid: valid, positions: positions)
                        store(c2, row: p0 + 2, bias: bias, first: first, valid: valid, positions: positions)
                        store(c3, row: p0 + 3, bias: bias, first: first, valid: valid, positions: positions)
                        store(c4, row: p0 + 4, bias: bias, first: first, valid: valid, positions: positions)
                        store(c5, row: p0 + 5, bias: bias, first: first, valid: valid, positions: positions)
                    } else {
                        for row in 0..<rows {
                            var acc = Vec.zero
                            let x = a + row * inChannels
                            for i in 0..<k { acc = acc.addingProduct(Vec(repeating: x[i]), load(b + i * 16)) }
                            store(acc, row: p0 + row, bias: bias, first: first, valid: valid, positions: positions)
                        }
                    }
                }
            }
        }
    }

    /// Bias, activation, residual and store of one row's 16 (or fewer) channels.
    @inlinable @inline(__always)
    func store(_ acc: Vec, row: Int, bias: Vec, first: Int, valid: Int, positions: UnsafePointer<Float>) {
        var v = A.apply(acc + bias)
        let base = row * outChannels
        if !shuffled {
            if let residual { v += load(residual + base + first, count: valid) }
            SpecRuntime.store(v, output + base + first, count: valid)
            return
        }
        if let residual { v += spec_gather16(residual + base, positions + first, Int32(valid)) }
        spec_scatter16(output + base, positions + first, v, Int32(valid))
    }
}
