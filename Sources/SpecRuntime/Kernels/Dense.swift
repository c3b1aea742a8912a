/// Fully connected layer on a vector: the classifier, the head conv after pooling, and
/// the SE branch's two 1×1 convs. At batch 1 these read each weight once, so they run at
/// the speed weights stream from memory: the weights are packed in panels of 64 outputs,
/// each [in][64] and read front to back, then a last panel of the remaining outputs
/// (padded to 16), then the bias (padded to 16). Large layers split panels over threads.
public enum DensePacking {
    public static let panelWidth = 64

    public static func floats(inFeatures: Int, outFeatures: Int) -> Int {
        let padded = roundUp(outFeatures, 16)
        return inFeatures * padded + padded
    }

    /// Where weight [o][i] goes.
    public static func index(output o: Int, input i: Int, inFeatures: Int, outFeatures: Int) -> Int {
        let padded = roundUp(outFeatures, 16)
        let full = padded / panelWidth
        let panel = o / panelWidth
        if panel < full { return panel * panelWidth * inFeatures + i * panelWidth + o % panelWidth }
        let tail = padded - full * panelWidth
        return full * panelWidth * inFeatures + i * tail + (o - full * panelWidth)
    }
}

extension Kernels {
    @inlinable
    public static func dense<A: ActivationFunction>(
        input: UnsafePointer<Float>, inFeatures: Int, weights: UnsafePointer<Float>, outFeatures: Int,
        output: UnsafeMutablePointer<Float>, activation: A.Type, threads: ThreadPool? = nil
    ) {
        let work = Dense<A>(input: input, inFeatures: inFeatures, weights: weights, outFeatures: outFeatures, output: output)
        let panels = (roundUp(outFeatures, 16) + DensePacking.panelWidth - 1) / DensePacking.panelWidth
        // Below ~128 KB of weights, waking a second thread costs more than it saves.
        if let threads, inFeatures * outFeatures >= 1 << 15 {
            threads.parallelChunks(panels, grain: 1, work)
        } else {
            work.run(0..<panels)
        }
    }

    /// Squeeze-and-excitation, in place: pool x to channel means, squeeze through the
    /// reduce layer (+inner activation), expand to a gate (+gate activation), scale x.
    /// `scratch` holds channels + squeeze floats.
    @inlinable
    public static func squeezeExcite<Inner: ActivationFunction, Gate: ActivationFunction>(
        _ tensor: UnsafeMutablePointer<Float>, pixels: Int, channels: Int, squeeze: Int,
        reduce: UnsafePointer<Float>, expand: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
        inner: Inner.Type, gate: Gate.Type, threads: ThreadPool
    ) {
        let means = scratch, squeezed = scratch + channels
        globalAveragePool(input: tensor, pixels: pixels, channels: channels, output: means)
        dense(input: means, inFeatures: channels, weights: reduce, outFeatures: squeeze, output: squeezed, activation: Inner.self,
              threads: threads)
        // The gate overwrites the means, which are no longer needed.
        dense(input: squeezed, inFeatures: squeeze, weights: expand, outFeatures: channels, output: means, activation: Gate.self,
              threads: threads)
        scaleChannels(tensor, pixels: pixels, channels: channels, gate: means, threads: threads)
    }
}

/// A range of a dense layer's weight panels.
@usableFromInline
struct Dense<A: ActivationFunction>: ParallelWork {
    @usableFromInline let input: UnsafePointer<Float>
    @usableFromInline let inFeatures: Int
    @usableFromInline let weights: UnsafePointer<Float>
    @usableFromInline let outFeatures: Int
    @usableFromInline let output: UnsafeMutablePointer<Float>

    @inlinable
    init(input: UnsafePointer<Float>, inFeatures: Int, weights: UnsafePointer<Float>, outFeatures: Int, output: UnsafeMutablePointer<Float>) {
        self.input = input
        self.inFeatures = inFeatures
        self.weights = weights
        self.outFeatures = outFeatures
        self.output = output
    }

    @inlinable
    func run(_ panels: Range<Int>) {
        let width = DensePacking.panelWidth
        let padded = roundUp(outFeatures, 16)
        let full = padded / width, tail = padded - full * width
        // Layers whose weights come from memory read two panels at once: one stream of
        // weights from memory runs at ~9 GB/s on the AVX2 VM, two at ~16 (BENCHMARKS.md).
        // Each output is the same chain of FMAs either way.
        let pairs = inFeatures * padded * MemoryLayout<Float>.size >= Kernels.prefetchedWeightBytes
        var panel = panels.lowerBound
        while panel < panels.upperBound {
            let w = weights + panel * width * inFeatures, column = panel * width
            if pairs && panel + 1 < min(full, panels.upperBound) {
                runPair(w, column: column)
                panel += 2
            } else {
                // Constant vector counts, so each call compiles to its own branch-free loop.
                if panel < full {
                    run(w, width: width, vectors: 4, column: column)
                } else if tail == 48 {
                    run(w, width: tail, vectors: 3, column: column)
                } else if tail == 32 {
                    run(w, width: tail, vectors: 2, column: column)
                } else {
                    run(w, width: tail, vectors: 1, column: column)
                }
                panel += 1
            }
        }
    }

    /// Two full panels at once, `panel` and the one after it: two streams of weights.
    @inlinable @inline(__always)
    func runPair(_ panel: UnsafePointer<Float>, column o: Int) {
        var a0 = Vec.zero, a1 = Vec.zero, a2 = Vec.zero, a3 = Vec.zero
        var b0 = Vec.zero, b1 = Vec.zero, b2 = Vec.zero, b3 = Vec.zero
        let width = DensePacking.panelWidth
        var w = panel, v = panel + width * inFeatures
        for i in 0..<inFeatures {
            let x = Vec(repeating: input[i])
            a0 = a0.addingProduct(x, load(w))
            a1 = a1.addingProduct(x, load(w + 16))
            a2 = a2.addingProduct(x, load(w + 32))
            a3 = a3.addingProduct(x, load(w + 48))
            b0 = b0.addingProduct(x, load(v))
            b1 = b1.addingProduct(x, load(v + 16))
            b2 = b2.addingProduct(x, load(v + 32))
            b3 = b3.addingProduct(x, load(v + 48))
            w += width
            v += width
        }
        finish(a0, a1, a2, a3, vectors: 4, column: o)
        finish(b0, b1, b2, b3, vectors: 4, column: o + width)
    }

    /// One panel: `vectors` accumulators of 16 outputs, each weight row `width` floats.
    @inlinable @inline(__always)
    func run(_ panel: UnsafePointer<Float>, width: Int, vectors: Int, column o: Int) {
        var a0 = Vec.zero, a1 = Vec.zero, a2 = Vec.zero, a3 = Vec.zero
        var w = panel
        for i in 0..<inFeatures {
            let x = Vec(repeating: input[i])
            a0 = a0.addingProduct(x, load(w))
            if vectors > 1 { a1 = a1.addingProduct(x, load(w + 16)) }
            if vectors > 2 { a2 = a2.addingProduct(x, load(w + 32)) }
            if vectors > 3 { a3 = a3.addingProduct(x, load(w + 48)) }
            w += width
        }
        finish(a0, a1, a2, a3, vectors: vectors, column: o)
    }

    /// Bias, activation and store of the `vectors` accumulators of outputs from `column` on.
    @inlinable @inline(__always)
    func finish(_ a0: Vec, _ a1: Vec, _ a2: Vec, _ a3: Vec, vectors: Int, column o: Int) {
        let bias = weights + inFeatures * roundUp(outFeatures, 16) + o
        store(A.apply(a0 + load(bias)), output + o, count: outFeatures - o)
        if vectors > 1 { store(A.apply(a1 + load(bias + 16)), output + o + 16, count: outFeatures - o - 16) }
        if vectors > 2 { store(A.apply(a2 + load(bias + 32)), output + o + 32, count: outFeatures - o - 32) }
        if vectors > 3 { store(A.apply(a3 + load(bias + 48)), output + o + 48, count: outFeatures - o - 48) }
    }
}
