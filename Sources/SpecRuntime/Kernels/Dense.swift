/// Fully connected layer on a vector: the classifier, the head conv after pooling, and
/// the SE branch's two 1×1 convs. Weights packed [in][out padded to 16], then the bias.
public enum DensePacking {
    public static func floats(inFeatures: Int, outFeatures: Int) -> Int {
        let padded = roundUp(outFeatures, 16)
        return inFeatures * padded + padded
    }
}

extension Kernels {
    @inlinable
    public static func dense<A: ActivationFunction>(
        input: UnsafePointer<Float>, inFeatures: Int, weights: UnsafePointer<Float>, outFeatures: Int,
        output: UnsafeMutablePointer<Float>, activation: A.Type
    ) {
        let padded = roundUp(outFeatures, 16)
        let bias = weights + inFeatures * padded
        var o = 0
        // Four output vectors at a time: one broadcast of x[i] feeds four FMAs.
        while o + 64 <= padded {
            var acc0 = Vec.zero, acc1 = Vec.zero, acc2 = Vec.zero, acc3 = Vec.zero
            var w = weights + o
            for i in 0..<inFeatures {
                let x = Vec(repeating: input[i])
                acc0 = acc0.addingProduct(x, load(w))
                acc1 = acc1.addingProduct(x, load(w + 16))
                acc2 = acc2.addingProduct(x, load(w + 32))
                acc3 = acc3.addingProduct(x, load(w + 48))
                w += padded
            }
            store(A.apply(acc0 + load(bias + o)), output + o, count: outFeatures - o)
            store(A.apply(acc1 + load(bias + o + 16)), output + o + 16, count: outFeatures - o - 16)
            store(A.apply(acc2 + load(bias + o + 32)), output + o + 32, count: outFeatures - o - 32)
            store(A.apply(acc3 + load(bias + o + 48)), output + o + 48, count: outFeatures - o - 48)
            o += 64
        }
        while o < padded {
            var acc = Vec.zero
            var w = weights + o
            for i in 0..<inFeatures {
                acc = acc.addingProduct(Vec(repeating: input[i]), load(w))
                w += padded
            }
            store(A.apply(acc + load(bias + o)), output + o, count: outFeatures - o)
            o += 16
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
        dense(input: means, inFeatures: channels, weights: reduce, outFeatures: squeeze, output: squeezed, activation: Inner.self)
        // The gate overwrites the means, which are no longer needed.
        dense(input: squeezed, inFeatures: squeeze, weights: expand, outFeatures: channels, output: means, activation: Gate.self)
        scaleChannels(tensor, pixels: pixels, channels: channels, gate: means, threads: threads)
    }
}
